"""Signal receivers of the portal (connected in PortalConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from apps.core.tenancy import current_schema
from apps.parties.models import Preference
from apps.portal.middleware import SESSION_LANGUAGE


@receiver(user_logged_in)
def remember_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At sign-in, the user's chosen language (if any) goes into the session."""
    if request is None or not hasattr(request, "session") or current_schema() == "public":
        return  # the platform admin's users have no portal preferences
    language = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_LANGUAGE] = language
