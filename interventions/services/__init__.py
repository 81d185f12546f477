"""Writes that have rules, one module per subject. Every write of case data with a rule goes
through a function here; each raises `interventions.errors.ServiceError` when a rule refuses it."""
