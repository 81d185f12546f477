from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "interventions.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from interventions.audit import context, signals, user_changes  # noqa: F401

        context.install()
