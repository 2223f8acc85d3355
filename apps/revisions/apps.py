from django.apps import AppConfig


class RevisionsConfig(AppConfig):
    name = "apps.revisions"
    label = "revisions"
    verbose_name = "Revisions"

    def ready(self) -> None:
        # Calendars are a lower step; which ones a customer sees depends on the
        # objectives here, so the rule is handed down by registration (not import).
        from apps.calendars.selectors import register_customer_calendars
        from apps.revisions.selectors import calendar_ids_of_visible_objectives

        register_customer_calendars(calendar_ids_of_visible_objectives)
