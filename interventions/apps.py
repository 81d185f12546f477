from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"
    verbose_name = "Case management"

    def ready(self) -> None:
        # Role groups follow memberships (signals).
        from interventions import access  # noqa: F401
