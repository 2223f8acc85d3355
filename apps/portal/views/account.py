"""Signing in and out, the language, and the staff's customer switcher."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.core.access import is_provider_staff
from apps.core.mail import sender
from apps.core.tenancy import current_tenant
from apps.parties.models import Party
from apps.parties.services import preference_set_language
from apps.portal.access import VIEW_AS
from apps.portal.forms import LanguageForm, ViewAsForm
from apps.portal.middleware import SESSION_LANGUAGE


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the tenant's name on the e-mail's From, as on its reports and notices."""

    def form_valid(self, form):
        self.from_email = sender(getattr(current_tenant(), "name", ""))
        return super().form_valid(form)


def _back(request: HttpRequest, target: str | None) -> HttpResponseRedirect:
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("portal:home"))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Choose the portal's language; remembered in the profile when signed in."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _back(request, request.POST.get("next"))
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        preference_set_language(user=request.user, language=language)
    if language:
        request.session[SESSION_LANGUAGE] = language
    else:
        request.session.pop(SESSION_LANGUAGE, None)
    return _back(request, form.cleaned_data.get("next"))


@login_required
@require_POST
def view_as(request: HttpRequest) -> HttpResponse:
    """Provider staff: look at the portal as one customer sees it (empty: everyone)."""
    form = ViewAsForm(request.POST)
    if is_provider_staff(request.user) and form.is_valid():
        party = form.cleaned_data.get("party")
        if party and Party.objects.filter(pk=party).exists():
            request.session[VIEW_AS] = party
        else:
            request.session.pop(VIEW_AS, None)
    return HttpResponseRedirect(reverse("portal:home"))
