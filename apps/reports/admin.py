"""Provider admin: report subscriptions (with "send now") and the log of report runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.services import run_reopen, subscription_due, subscription_save
from apps.reports.tasks import send_run


def _queue_after_commit(subscription_id: int, label: str) -> None:
    transaction.on_commit(lambda: send_run.delay(subscription_id, label))


class RunInline(admin.TabularInline):
    model = ReportRun
    extra = 0
    can_delete = False
    fields = ("period", "status", "attempts", "sent_at", "recipient", "error")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(SimpleHistoryAdmin):
    list_display = (
        "party",
        "subscriber",
        "frequency",
        "send_day",
        "send_hour",
        "timezone",
        "active",
        "next_report",
    )
    list_filter = ("frequency", "active", "party")
    search_fields = ("party__name", "contact__email", "user__email", "user__username")
    autocomplete_fields = ["party", "contact", "user"]
    inlines = [RunInline]
    actions = ["send_now"]

    @admin.display(description="subscriber")
    def subscriber(self, subscription: ReportSubscription) -> str:
        return f"{subscription.recipient_name} <{subscription.recipient}>"

    @admin.display(description="latest report due")
    def next_report(self, subscription: ReportSubscription) -> str:
        due = subscription_due(subscription, timezone.now())
        return f"{due.label} (due {due.slot:%Y-%m-%d %H:%M %Z})"

    def save_model(
        self, request: HttpRequest, obj: ReportSubscription, form: object, change: bool
    ) -> None:
        subscription_save(subscription=obj, acting_user=request.user)

    @admin.action(description="Send the latest report now (once: a sent one is not repeated)")
    def send_now(self, request: HttpRequest, queryset: QuerySet[ReportSubscription]) -> None:
        now = timezone.now()
        for subscription in queryset:
            label = subscription_due(subscription, now).label
            run = run_reopen(
                subscription=subscription, label=label, acting_user=request.user, now=now
            )
            if run is not None and run.status == RunStatus.SENT:
                sent = timezone.localtime(run.sent_at) if run.sent_at else None
                self.message_user(
                    request,
                    f"{subscription}: report {label} was sent already"
                    + (f" on {sent:%Y-%m-%d %H:%M}" if sent else "")
                    + "; it is not sent twice.",
                    messages.WARNING,
                )
                continue
            if not subscription.active:
                self.message_user(
                    request, f"{subscription}: inactive, nothing sent.", messages.WARNING
                )
                continue
            _queue_after_commit(subscription.pk, label)
            self.message_user(request, f"{subscription}: report {label} queued.", messages.SUCCESS)


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ("subscription", "period", "status", "attempts", "sent_at", "recipient", "error")
    list_filter = ("status", "period")
    search_fields = ("recipient", "subscription__party__name", "error")
    list_select_related = ("subscription__party", "subscription__contact", "subscription__user")
    readonly_fields = [f.name for f in ReportRun._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Send the selected failed or skipped reports again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[ReportRun]) -> None:
        now = timezone.now()
        queued = 0
        for run in queryset.select_related("subscription"):
            if run.status not in (RunStatus.FAILED, RunStatus.SKIPPED):
                continue
            run_reopen(
                subscription=run.subscription,
                label=run.period,
                acting_user=request.user,
                now=now,
            )
            _queue_after_commit(run.subscription_id, run.period)
            queued += 1
        skipped = queryset.count() - queued
        self.message_user(
            request,
            f"{queued} report(s) queued"
            + (f"; {skipped} sent or sending left alone" if skipped else "")
            + ".",
            messages.SUCCESS if queued else messages.WARNING,
        )
