"""The transactional outbox: background work recorded in the same transaction as the data it is
about, and sent to Celery after the commit (see services.py for why and how)."""
