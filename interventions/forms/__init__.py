"""Forms, one module per subject, plus the shared widgets and the single-submit token."""
