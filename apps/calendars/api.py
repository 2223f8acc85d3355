"""/api/v1/calendars/, with the SLA clock: elapsed/ and deadline/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.calendars.models import Calendar, format_minutes, parse_minutes
from apps.calendars.selectors import calendar_list_visible
from apps.calendars.services import calendar_save
from apps.calendars.specs import calendar_spec, clock_table
from apps.core.api import InputSerializer, ScopedModelViewSet, ServiceSerializer
from apps.core.timestamps import AwareDateTimeField
from apps.core.validators import validate_date_in_range


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$", "example": "08:00"}
)
class TimeOfDayField(serializers.Field):
    """'HH:MM' <-> minutes after midnight; '24:00' ends a day."""

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_minutes(str(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: int) -> str:
        return format_minutes(value)


class WorkingHoursSerializer(InputSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = TimeOfDayField(source="start_minute")
    end = TimeOfDayField(source="end_minute")


class HolidaySerializer(InputSerializer):
    date = serializers.DateField(validators=[validate_date_in_range])
    name = serializers.CharField(max_length=200)


class CalendarSerializer(ServiceSerializer):
    working_hours = WorkingHoursSerializer(many=True, source="working_ranges", required=False)
    holidays = HolidaySerializer(many=True, required=False)
    holiday_country = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, max_length=3
    )
    holiday_subdivision = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, max_length=10
    )
    is_24x7 = serializers.SerializerMethodField()

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "timezone",
            "working_hours",
            "holiday_country",
            "holiday_subdivision",
            "holidays",
            "version",
            "is_24x7",
            "is_default",
        ]
        read_only_fields = ["version"]
        extra_kwargs = {
            "is_default": {
                "help_text": "The tenant's default calendar, for objectives and agreements that "
                "name none; marking one takes the mark from the previous default."
            }
        }

    def get_is_24x7(self, calendar: Calendar) -> bool:
        return not calendar.working_ranges.all()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["holiday_country"] = instance.holiday_country or None
        data["holiday_subdivision"] = instance.holiday_subdivision or None
        return data

    def save_with(self, *, instance, acting_user, data):
        ranges = data.pop("working_ranges", None)
        holidays = data.pop("holidays", None)
        for name in ("holiday_country", "holiday_subdivision"):
            if name in data:
                data[name] = (
                    (data[name] or "").upper() if name == "holiday_country" else (data[name] or "")
                )
        return calendar_save(
            calendar=instance,
            acting_user=acting_user,
            working_hours=None
            if ranges is None
            else [(item["weekday"], item["start_minute"], item["end_minute"]) for item in ranges],
            holidays=None
            if holidays is None
            else [(item["date"], item["name"]) for item in holidays],
            **data,
        )


class PauseSerializer(InputSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "A pause cannot end before it starts."})
        return attrs


class ElapsedSerializer(InputSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    pauses = PauseSerializer(many=True, required=False, default=list)

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end lies before the start."})
        return attrs


class DeadlineSerializer(InputSerializer):
    start = AwareDateTimeField()
    seconds = serializers.IntegerField(min_value=0, max_value=10 * 365 * 86400)
    pauses = PauseSerializer(many=True, required=False, default=list)


class CalendarViewSet(ScopedModelViewSet):
    serializer_class = CalendarSerializer

    def scoped_queryset(self, user):
        return calendar_list_visible(user)

    def _table(self, calendar, start, end):
        spec = calendar_spec(calendar, calendar.timezone)
        return clock_table(spec, start, end)

    @extend_schema(
        request=ElapsedSerializer,
        responses=inline_serializer("ElapsedResponse", {"seconds": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def elapsed(self, request, pk=None):
        """The SLA clock: working seconds of [start, end) minus the union of the pauses."""
        calendar = self.get_object()  # a calendar out of sight is a 404 before any input check
        params = ElapsedSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        pauses = [(p["start"], p["end"]) for p in data["pauses"]]
        table = self._table(calendar, data["start"], data["end"])
        return Response({"seconds": table.elapsed(data["start"], data["end"], pauses)})

    @extend_schema(
        request=DeadlineSerializer,
        responses=inline_serializer("DeadlineResponse", {"deadline": serializers.DateTimeField()}),
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def deadline(self, request, pk=None):
        """The earliest instant at which the clock started at ``start`` has run ``seconds``."""
        calendar = self.get_object()
        params = DeadlineSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        pauses = [(p["start"], p["end"]) for p in data["pauses"]]
        table = self._table(calendar, data["start"], data["start"])
        moment = table.deadline(data["start"], data["seconds"], pauses)
        return Response({"deadline": moment.isoformat()})
