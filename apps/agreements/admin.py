from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from apps.agreements.models import Agreement, Service
from apps.revisions.models import Revision


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)


class RevisionInline(admin.TabularInline):
    """Revisions of the agreement, read-only here: each opens in its own editor."""

    model = Revision
    fields = ("link", "status", "effective_from", "summary", "approved_at", "accepted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="revision")
    def link(self, revision: Revision):
        url = reverse("admin:revisions_revision_change", args=[revision.pk])
        return format_html('<a href="{}">Revision {}</a>', url, revision.number)


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
    autocomplete_fields = ["provider", "customer", "parent"]
    filter_horizontal = ["services"]
    readonly_fields = ("kind", "signed_on", "age", "review_is_due")
    inlines = [RevisionInline]
    ordering = ["reference"]  # the revision-count annotation drops Meta.ordering
    fieldsets = [
        (None, {"fields": ("reference", "title", "provider", "customer", "kind")}),
        ("Multi-level", {"fields": ("tier", "parent")}),
        (
            "Scope and term",
            {"fields": ("services", "term_start", "term_end", "signed_on", "age", "status")},
        ),
        ("Money", {"fields": ("monthly_fee", "currency")}),
        (
            "Governance",
            {
                "fields": (
                    "requires_acceptance",
                    "review_every_months",
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
        return agreement.revision_total

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
