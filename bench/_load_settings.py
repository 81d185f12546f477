"""Production settings for the load test (bench/load.py), with the collected static files in a
throwaway directory so the test never touches the checkout's own `staticfiles/`."""

import os

from gvr_site.settings import *  # noqa: F403

STATIC_ROOT = os.environ["GVR_LOAD_STATIC_ROOT"]
