"""Provider admin for service credits: read-only figures, their events, lifecycle actions and
the "Resolve dispute" tool; and the revision editor's "What if…" tool.

Credit tiers are terms of a revision, edited inline there (apps.revisions.admin).
Credits are never typed in: they come from the calculation and change only
through the actions and the tool below, which call the services (and so their rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods
from simple_history.admin import SimpleHistoryAdmin

from apps.core.access import ActingUser
from apps.core.errors import StateConflict
from apps.core.money import format_money_local
from apps.credits.explain import credit_lines
from apps.credits.forms import CreditResolveForm, what_if_from_query
from apps.credits.models import TRANSITIONS, CreditEvent, CreditStatus, ServiceCredit
from apps.credits.transitions import credit_approve, credit_issue, credit_void
from apps.parties.selectors import is_provider_manager
from apps.revisions.admin import RevisionAdmin
from apps.revisions.models import Revision


class CreditActionForm(ActionForm):
    """The action bar with a note: required to void, optional otherwise."""

    note = forms.CharField(required=False, label="Note", max_length=2000)


class CreditEventInline(admin.TabularInline):
    model = CreditEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "amount_text", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="amount")
    def amount_text(self, event: CreditEvent) -> str:
        if event.amount is None:
            return "-"
        return format_money_local(event.amount, event.credit.currency)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def may_resolve(user: ActingUser) -> bool:
    """May ``user`` resolve disputes? The role ``credit_resolve`` requires: TRANSITIONS lets
    only "provider" resolve, and a provider manager (``is_provider_manager``) holds it — the
    check ``credit_transition`` makes first (the portal's ``may_dispute`` reads it the same
    way). The service checks again when the tool writes; a refusal there is a 403 too."""
    return is_provider_manager(user)


def offers_resolve(credit: ServiceCredit) -> bool:
    """Can the credit be resolved from where it stands (disputed)? Decides whether the tool is
    offered; the service refuses any other move on its own."""
    return CreditStatus.RESOLVED in TRANSITIONS[credit.status]


def dispute_event(credit: ServiceCredit) -> CreditEvent | None:
    """The step that opened the credit's latest dispute (the customer's reason is its note)."""
    return (
        credit.events.filter(to_status=CreditStatus.DISPUTED)
        .exclude(from_status=CreditStatus.DISPUTED)
        .select_related("by")
        .order_by("-at", "-pk")
        .first()
    )


STATUS_STYLE: dict[str, str] = {
    CreditStatus.DISPUTED: "background:#fdecea;color:#8a1c1c;font-weight:600",
    CreditStatus.RESOLVED: "background:#fff4d6;color:#5c4400",
    CreditStatus.ISSUED: "background:#e6f4ea;color:#17521f",
    CreditStatus.VOID: "color:#666;text-decoration:line-through",
}


@admin.register(ServiceCredit)
class ServiceCreditAdmin(SimpleHistoryAdmin):
    list_display = ("agreement", "period", "amount_text", "status_badge", "calculated_at")
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
        "status_badge",
        "dispute",
        "percent",
        "uncapped_percent",
        "cap_percent",
        "fee_basis_text",
        "amount_text",
        "objectives_table",
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

    # --- how figures read -----------------------------------------------------------
    @admin.display(description="amount", ordering="amount")
    def amount_text(self, credit: ServiceCredit) -> str:
        return format_money_local(credit.amount, credit.currency)

    @admin.display(description="fee basis")
    def fee_basis_text(self, credit: ServiceCredit) -> str:
        return format_money_local(credit.fee_basis, credit.currency)

    @admin.display(description="status", ordering="status")
    def status_badge(self, credit: ServiceCredit) -> str:
        return format_html(
            '<span class="credit-status credit-status-{}" style="{};padding:1px 8px;'
            'border-radius:10px;white-space:nowrap">{}</span>',
            credit.status,
            STATUS_STYLE.get(credit.status, ""),
            credit.get_status_display(),
        )

    @admin.display(description="customer's dispute")
    def dispute(self, credit: ServiceCredit) -> str:
        event = dispute_event(credit)
        if event is None:
            return "-"
        who = event.by.username if event.by else "the system"
        return format_html(
            "{}<br><small>by {}, {}</small>",
            event.note or "-",
            who,
            f"{timezone.localtime(event.at):%Y-%m-%d %H:%M}",
        )

    @admin.display(description="missed objectives")
    def objectives_table(self, credit: ServiceCredit) -> str:
        lines = credit_lines(credit)
        if not lines:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (line.key, line.attained, line.target, line.tier or "no tier", line.percent)
                for line in lines
            ),
        )
        return format_html(
            '<table class="credit-objectives"><thead><tr><th>objective</th><th>attained</th>'
            "<th>target</th><th>tier</th><th>credit</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- the change page, the list and the "Resolve dispute" tool --------------------
    def get_urls(self):
        own = [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="credits_servicecredit_resolve",
            )
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        credit = self.get_object(request, object_id)
        if credit is not None:
            extra["subtitle"] = str(credit)
        if credit is not None and offers_resolve(credit):
            extra["disputed"] = True
            extra["dispute_event"] = dispute_event(credit)
            if may_resolve(request.user):
                extra["resolve_url"] = reverse(
                    "admin:credits_servicecredit_resolve", args=[credit.pk]
                )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        extra["open_disputes"] = ServiceCredit.objects.filter(status=CreditStatus.DISPUTED).count()
        extra["disputed_filter"] = f"?status__exact={CreditStatus.DISPUTED}"
        return super().changelist_view(request, extra_context=extra)

    def resolve_view(self, request, pk: int):
        return require_http_methods(["GET", "POST"])(self._resolve)(request, pk)

    def _resolve(self, request, pk: int):
        """A form for a disputed credit: the customer's reason, the resolution and the agreed
        amount; ``credit_resolve`` does the rest. 403 for staff who may not resolve."""
        credit = get_object_or_404(
            ServiceCredit.objects.select_related("agreement", "revision"), pk=pk
        )
        if not self.has_view_permission(request, credit) or not may_resolve(request.user):
            raise PermissionDenied
        change_url = reverse("admin:credits_servicecredit_change", args=[credit.pk])
        if not offers_resolve(credit):
            self.message_user(
                request,
                f"The credit is {credit.status}; only a disputed credit can be resolved.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        form = CreditResolveForm(request.POST if request.method == "POST" else None, credit=credit)
        if request.method == "POST":
            resolved = form.resolve(acting_user=request.user)  # PermissionDenied: 403
            if resolved is not None:
                self.message_user(
                    request,
                    f"{credit.agreement.reference} {credit.period}: dispute resolved; the "
                    f"credit is {format_money_local(resolved.amount, resolved.currency)}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Resolve the dispute about {credit.agreement.reference} {credit.period}",
            "credit": credit,
            "amount_text": format_money_local(credit.amount, credit.currency),
            "dispute_event": dispute_event(credit),
            "lines": credit_lines(credit),
            "form": form,
        }
        return render(request, "admin/credits/servicecredit/resolve.html", context)

    # --- list actions ---------------------------------------------------------------
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
                text = f"{credit}: {_error_text(exc)}"
                if isinstance(exc, StateConflict) and offers_resolve(credit):
                    url = reverse("admin:credits_servicecredit_change", args=[credit.pk])
                    text = format_html(
                        '{} To resolve the dispute, open <a href="{}">the credit</a> and use '
                        "“Resolve dispute”.",
                        text,
                        url,
                    )
                self.message_user(request, text, messages.ERROR)
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
