"""Reads of case data for the pages, one module per audience or subject. Reads only: who may
reach what comes from `interventions.access`, and nothing here writes."""
