from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "interventions.outbox"
    label = "outbox"
    verbose_name = "Background work outbox"
