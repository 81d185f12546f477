"""Demo and volume data: `seed_demo` loads the fictional Kern County demo (case.py, with the
shooting response in response.py; idempotent), `seed_volume` the bulk data for load tests
(volume.py)."""
