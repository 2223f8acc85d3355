"""Compliance results in the provider admin: computed, never edited; adjustments inline."""

from __future__ import annotations

from django.contrib import admin

from apps.compliance.models import ComplianceAdjustment, ComplianceResult


class AdjustmentInline(admin.TabularInline):
    model = ComplianceAdjustment
    extra = 0
    can_delete = False
    readonly_fields = (
        "old_status",
        "new_status",
        "old_attained",
        "new_attained",
        "reason",
        "created_by",
        "created_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ComplianceResult)
class ComplianceResultAdmin(admin.ModelAdmin):
    """Results are computed, never edited: evaluation owns them."""

    list_display = (
        "agreement",
        "period",
        "key",
        "metric",
        "target",
        "attained",
        "status",
        "data_points",
        "inherited",
        "final",
        "computed_at",
    )
    list_filter = ("status", "period", "metric", "final", "inherited")
    search_fields = ("agreement__reference", "key")
    inlines = [AdjustmentInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
