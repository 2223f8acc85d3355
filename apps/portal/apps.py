from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "apps.portal"
    label = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        from apps.portal import signals  # noqa: F401  (connects the sign-in receiver)
