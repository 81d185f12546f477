"""The Django admin: the city program admins' interface to partners, programs and case records,
one module per subject; each model is registered exactly once. Writes that have rules go
through the services via the forms in admin/forms.py. Narrative case notes are never shown or
looked up here: the admin is a city-wide view, and notes stay with the organisation that wrote
them."""

from interventions.admin import case, outcomes, plans, response, sharing, users  # noqa: F401
