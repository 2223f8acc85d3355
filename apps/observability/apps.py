from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Prometheus metrics at /metrics; on top of the data path (it may import every app)."""

    name = "apps.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from apps.observability import hooks

        hooks.connect_task_signals()
        hooks.connect_evaluation_signal()
