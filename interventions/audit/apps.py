from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "interventions.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from interventions.audit import context, signals, user_changes  # noqa: F401

        context.install()
