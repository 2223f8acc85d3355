"""Calendar editor: hours as HH:MM with overlap checks, holidays; saved through calendar_save."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from apps.calendars.models import (
    Calendar,
    CalendarHoliday,
    WorkingRange,
    format_minutes,
    parse_minutes,
)
from apps.calendars.services import calendar_save, validate_working_ranges


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
        "is_default",
        "version",
    )
    list_filter = ("is_default",)
    search_fields = ("name",)
    readonly_fields = ("version",)
    inlines = [WorkingRangeInline, HolidayInline]

    @admin.display(description="working hours")
    def hours(self, calendar: Calendar) -> str:
        ranges = list(calendar.working_ranges.all())
        return "24×7" if not ranges else f"{len(ranges)} ranges"

    def save_model(self, request, obj, form, change):
        """Nothing yet: save_related writes the calendar, its hours and holidays in one call."""

    def save_related(self, request, form, formsets, change):
        """The calendar with its hours and holidays through ``calendar_save`` (one rule, one
        version bump), instead of the inline formsets writing rows behind its back."""
        hours: list[tuple[int, int, int]] = []
        holidays = []
        for formset in formsets:
            kept = [
                f.cleaned_data
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            if formset.model is WorkingRange:
                hours = [(d["weekday"], d["start_minute"], d["end_minute"]) for d in kept]
            elif formset.model is CalendarHoliday:
                holidays = [(d["date"], d["name"]) for d in kept]
            # the change message reads what a formset saved; the service saved it instead
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        fields = ("name", "timezone", "holiday_country", "holiday_subdivision", "is_default")
        calendar_save(
            calendar=form.instance,
            acting_user=request.user,
            working_hours=hours,
            holidays=holidays,
            **{name: form.cleaned_data[name] for name in fields if name in form.cleaned_data},
        )
