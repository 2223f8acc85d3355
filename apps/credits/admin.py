"""Provider admin for service credits: read-only figures, their events, and lifecycle actions.

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
from simple_history.admin import SimpleHistoryAdmin

from apps.credits.models import CreditEvent, ServiceCredit
from apps.credits.transitions import credit_approve, credit_issue, credit_void


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
