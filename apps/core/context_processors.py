from typing import Any

from django.http import HttpRequest

from apps.core.tenancy import current_schema


def tenant(request: HttpRequest) -> dict[str, Any]:
    """The current provider (or None on the public host) for templates."""
    current = getattr(request, "tenant", None)
    is_public = current is None or current_schema() == "public"
    return {"current_tenant": None if is_public else current}
