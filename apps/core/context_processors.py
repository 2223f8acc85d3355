from django.db import connection


def tenant(request):
    """The current provider (or None on the public host) for templates."""
    current = getattr(request, "tenant", None)
    is_public = current is None or connection.schema_name == "public"
    return {"current_tenant": None if is_public else current}
