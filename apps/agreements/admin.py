"""Provider admin for services and agreements; writes go through apps.agreements.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from apps.agreements.models import Agreement, Service
from apps.agreements.services import agreement_mark_reviewed, agreement_save, service_save


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        service_save(service=obj, acting_user=request.user)


@admin.register(Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    list_display = (
        "reference",
        "title",
        "customer",
        "kind",
        "tier",
        "parent",
        "status",
        "revisions",
        "age",
        "next_review_on",
        "review_is_due",
    )
    list_filter = ("tier", "kind", "status", "provider", "customer")
    search_fields = ("reference", "title", "customer__name")
    autocomplete_fields = ["provider", "customer", "parent", "calendar"]
    filter_horizontal = ["services"]
    readonly_fields = ("kind", "signed_on", "age", "last_reviewed_on", "review_is_due")
    actions = ["mark_reviewed"]
    ordering = ["reference"]  # the revision-count annotation drops Meta.ordering
    fieldsets = [
        (None, {"fields": ("reference", "title", "provider", "customer", "kind")}),
        ("Multi-level", {"fields": ("tier", "parent")}),
        (
            "Scope and term",
            {
                "fields": (
                    "services",
                    "calendar",
                    "term_start",
                    "term_end",
                    "signed_on",
                    "age",
                    "status",
                )
            },
        ),
        ("Money", {"fields": ("monthly_fee", "currency")}),
        (
            "Governance",
            {
                "fields": (
                    "requires_acceptance",
                    "review_every_months",
                    "last_reviewed_on",
                    "next_review_on",
                    "review_is_due",
                )
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(revision_total=Count("revisions"))

    @admin.display(description="revisions", ordering="revision_total")
    def revisions(self, agreement: Agreement) -> int:
        return int(getattr(agreement, "revision_total", 0))

    @admin.display(description="age since signing")
    def age(self, agreement: Agreement) -> str:
        days = agreement.age_days
        if days is None:
            return "not signed"
        years, rest = divmod(days, 365)
        return f"{years} y {rest // 30} m" if years else f"{days // 30} m {days % 30} d"

    @admin.display(description="review due", boolean=True)
    def review_is_due(self, agreement: Agreement) -> bool:
        return agreement.review_due

    def save_model(self, request, obj, form, change):
        agreement_save(agreement=obj, acting_user=request.user)

    @admin.action(description="Record a review today (schedules the next one)")
    def mark_reviewed(self, request, queryset) -> None:
        today = timezone.localdate()
        for agreement in queryset:
            try:
                agreement_mark_reviewed(
                    agreement=agreement, reviewed_on=today, acting_user=request.user
                )
            except ValidationError as exc:
                self.message_user(request, f"{agreement}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{agreement.reference}: reviewed on {today}; next review "
                    f"{agreement.next_review_on}.",
                    messages.SUCCESS,
                )
