from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterventionsConfig(AppConfig):
    name = "interventions"
    verbose_name = _("Case management")

    def ready(self) -> None:
        # Role groups follow memberships (signals).
        from interventions import access  # noqa: F401
