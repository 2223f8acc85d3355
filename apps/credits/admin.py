"""Provider admin for service credits: read-only figures, their events, and lifecycle actions;
and the revision editor's "What if…" tool.

Credit tiers are terms of a revision, edited inline there (apps.revisions.admin).
Credits are never typed in: they come from the calculation and change only
through the actions below, which call the services (and so their rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from apps.credits.forms import what_if_from_query
from apps.credits.models import CreditEvent, ServiceCredit
from apps.credits.transitions import credit_approve, credit_issue, credit_void
from apps.revisions.admin import RevisionAdmin
from apps.revisions.models import Revision


class CreditActionForm(ActionForm):
    """The action bar with a note: required to void, optional otherwise."""

    note = forms.CharField(required=False, label="Note", max_length=2000)


class CreditEventInline(admin.TabularInline):
    model = CreditEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "amount", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@admin.register(ServiceCredit)
class ServiceCreditAdmin(SimpleHistoryAdmin):
    list_display = ("agreement", "period", "amount", "currency", "status", "calculated_at")
    list_filter = ("status", "period", "currency")
    search_fields = ("agreement__reference", "agreement__title", "period")
    list_select_related = ("agreement",)
    inlines = [CreditEventInline]
    action_form = CreditActionForm
    actions = ["approve_selected", "issue_selected", "void_selected"]
    fields = (
        "agreement",
        "revision",
        "period",
        "status",
        "percent",
        "uncapped_percent",
        "cap_percent",
        "fee_basis",
        "amount",
        "currency",
        "objectives",
        "resolution",
        "calculated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # view-only: the figures come from the calculation

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _apply(
        self,
        request,
        queryset,
        *,
        service: Callable[..., Any],
        done: str,
        **params: Any,
    ) -> None:
        """Run ``service`` on each selected credit; one message per credit."""
        for credit in queryset.select_related("agreement").order_by("agreement", "period"):
            try:
                service(credit=credit, acting_user=request.user, **params)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{credit}: {_error_text(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{credit.agreement.reference} {credit.period}: {done}.",
                    messages.SUCCESS,
                )

    def _note(self, request) -> str:
        return request.POST.get("note", "").strip()

    @admin.action(description="Approve selected credits")
    def approve_selected(self, request, queryset) -> None:
        self._apply(
            request, queryset, service=credit_approve, done="approved", note=self._note(request)
        )

    @admin.action(description="Issue selected credits")
    def issue_selected(self, request, queryset) -> None:
        self._apply(
            request, queryset, service=credit_issue, done="issued", note=self._note(request)
        )

    @admin.action(description="Void selected credits (give the reason as a note)")
    def void_selected(self, request, queryset) -> None:
        self._apply(request, queryset, service=credit_void, done="voided", note=self._note(request))


# The revision editor gets a "What if…" tool next to "Approve". A what-if needs credits,
# a later step than revisions, so this app extends the revision admin (as revisions
# extends the agreement admin) and hands the link to its page as ``what_if_url``.
class RevisionWithWhatIfAdmin(RevisionAdmin):
    def get_urls(self):
        own = [
            path(
                "<int:pk>/what-if/",
                self.admin_site.admin_view(self.what_if_view),
                name="revisions_revision_what_if",
            )
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if str(object_id).isascii() and str(object_id).isdigit():
            extra["what_if_url"] = reverse("admin:revisions_revision_what_if", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def what_if_view(self, request, pk: int):
        """The revision as if in force for a range of months (default: the last twelve
        finished ones), beside what was judged and credited. Writes nothing."""
        revision = get_object_or_404(Revision.objects.select_related("agreement"), pk=pk)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        form, report = what_if_from_query(
            revision=revision,
            query=request.GET,
            today=timezone.localdate(),
            acting_user=request.user,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"What if revision {revision.number} of {revision.agreement.reference} "
            "had been in force",
            "revision": revision,
            "form": form,
            "report": report,
        }
        return render(request, "admin/credits/revision_what_if.html", context)


admin.site.unregister(Revision)
admin.site.register(Revision, RevisionWithWhatIfAdmin)
