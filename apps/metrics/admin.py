"""Calendar editor (hours as HH:MM, overlap checks, holidays) and objectives."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from apps.metrics.models import (
    Calendar,
    CalendarHoliday,
    ComplianceAdjustment,
    ComplianceResult,
    Objective,
    WorkingRange,
    format_minutes,
    parse_minutes,
)
from apps.metrics.services import calendar_bump_version, validate_working_ranges


class TimeOfDayFormField(forms.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "HH:MM; 24:00 ends the day")
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 5, "maxlength": 5}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return format_minutes(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_minutes(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class WorkingRangeForm(forms.ModelForm):
    start_minute = TimeOfDayFormField(label="from")
    end_minute = TimeOfDayFormField(label="until")

    class Meta:
        model = WorkingRange
        fields = ["weekday", "start_minute", "end_minute"]


class WorkingRangeFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        ranges = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("start_minute") is None:
                continue
            if data.get("end_minute") is None or data.get("weekday") is None:
                continue
            ranges.append((data["weekday"], data["start_minute"], data["end_minute"]))
        problems = validate_working_ranges(ranges)
        if problems:
            raise ValidationError(problems)


class WorkingRangeInline(admin.TabularInline):
    model = WorkingRange
    form = WorkingRangeForm
    formset = WorkingRangeFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "timezone",
        "holiday_country",
        "holiday_subdivision",
        "hours",
        "version",
    )
    search_fields = ("name",)
    readonly_fields = ("version",)
    inlines = [WorkingRangeInline, HolidayInline]

    @admin.display(description="working hours")
    def hours(self, calendar: Calendar) -> str:
        ranges = list(calendar.working_ranges.all())
        return "24×7" if not ranges else f"{len(ranges)} ranges"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            calendar_bump_version(calendar=form.instance)


@admin.register(Objective)
class ObjectiveAdmin(SimpleHistoryAdmin):
    list_display = ("key", "revision", "metric", "target", "comparison", "period", "calendar")
    list_filter = ("metric", "period", "revision__status")
    search_fields = ("key", "name", "revision__agreement__reference")
    autocomplete_fields = ["revision", "calendar", "service"]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.revision.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.revision.is_draft:
            return False
        return super().has_delete_permission(request, obj)


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


from apps.metrics import admin_measurements  # noqa: E402, F401  (registers measurement admins)
