"""The signed-in user's chosen language wins over the browser's (Accept-Language)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

SESSION_LANGUAGE = "portal_language"


class PreferredLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: activate the language the user
    chose (kept in the session at sign-in and when changed), if any."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.session.get(SESSION_LANGUAGE) if hasattr(request, "session") else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
