"""/api/v1/tickets/, /api/v1/outages/, /api/v1/samples/: ingestion and read-back.

``POST`` takes one object or a list of objects (bulk) in the docs/DESIGN.md §6 shapes
and hands them, undecoded, to the services in ``apps.measurements.ingestion``,
which own every rule (this module only translates to HTTP):

- 201 ``{"created": n, "updated": m, "ids": [...]}``; ``ids`` are the primary
  keys in the order of the items (a repeat ``external_id`` updates its row).
- 400, nothing written:
  - one object: field errors, ``{"opened_at": ["..."], "pauses": {"0": {"end": ["..."]}}}``;
  - a list: the same per item, keyed by the item's index,
    ``{"errors": {"3": {"opened_at": ["..."]}}}``;
  - problems of the request as a whole: ``{"non_field_errors": ["..."]}``.
- 401 anonymous or another tenant's token; 403 not provider staff.

``GET`` lists (paginated, filterable) and details are scoped like everything
else: provider staff see all; customers see measurements of their parties and
those without a customer on a service their agreements cover (others: 404).
``POST tickets|outages/{id}/exclude/`` and ``/reinstate/`` with
``{"reason"}`` (provider managers) answer with the detail, whose
``exclusion_events`` customers can read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import InputSerializer, ScopedModelViewSet
from apps.core.parsers import SafeJSONParser
from apps.measurements.exclusion import measurement_exclude, measurement_reinstate
from apps.measurements.filters import OutageFilter, SampleFilter, TicketFilter
from apps.measurements.ingestion import IngestResult, outage_ingest, sample_ingest, ticket_ingest
from apps.measurements.models import (
    ExclusionEvent,
    Outage,
    OutageCause,
    OutageKind,
    PauseReason,
    Sample,
    Ticket,
    TicketPause,
)
from apps.measurements.parsing import IngestionError
from apps.measurements.selectors import (
    outage_list_visible,
    sample_list_visible,
    ticket_list_visible,
)

MAX_ITEMS = 10_000
EXCLUSION_FIELDS = ["excluded", "exclusion_reason", "excluded_by", "excluded_at"]

# --- output -------------------------------------------------------------------


class TicketPauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketPause
        fields = ["start", "end", "reason"]


class ExclusionEventSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True)

    class Meta:
        model = ExclusionEvent
        fields = ["excluded", "reason", "by", "at"]


class _MeasurementSerializer(serializers.ModelSerializer):
    excluded_by = serializers.CharField(
        source="excluded_by.username", allow_null=True, read_only=True
    )


class TicketSerializer(_MeasurementSerializer):
    pauses = TicketPauseSerializer(many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "external_id",
            "service",
            "customer",
            "priority",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "contacts",
            "pauses",
            *EXCLUSION_FIELDS,
            "updated_at",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    exclusion_events = ExclusionEventSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "exclusion_events"]
        read_only_fields = fields


class OutageSerializer(_MeasurementSerializer):
    class Meta:
        model = Outage
        fields = [
            "id",
            "external_id",
            "service",
            "customer",
            "start",
            "end",
            "kind",
            "cause",
            "description",
            *EXCLUSION_FIELDS,
            "updated_at",
        ]
        read_only_fields = fields


class OutageDetailSerializer(OutageSerializer):
    exclusion_events = ExclusionEventSerializer(many=True, read_only=True)

    class Meta(OutageSerializer.Meta):
        fields = [*OutageSerializer.Meta.fields, "exclusion_events"]
        read_only_fields = fields


class SampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sample
        fields = ["id", "external_id", "service", "customer", "metric", "at", "value"]
        read_only_fields = fields


# --- input (documentation only: the services validate) ---------------------------


class TicketPauseInput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True)
    reason = serializers.ChoiceField(PauseReason.choices, default=PauseReason.WAITING_CUSTOMER)


class TicketInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    service = serializers.IntegerField(required=False, allow_null=True)
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="A party id.")
    priority = serializers.CharField(max_length=16, required=False, allow_blank=True)
    opened_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    first_response_at = serializers.DateTimeField(required=False, allow_null=True)
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    contacts = serializers.IntegerField(min_value=0, default=1)
    pauses = TicketPauseInput(many=True, required=False, help_text="Replaces the stored pauses.")


class OutageInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    service = serializers.IntegerField()
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="A party id.")
    start = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    end = serializers.DateTimeField(required=False, allow_null=True)
    kind = serializers.ChoiceField(OutageKind.choices, default=OutageKind.UNPLANNED)
    cause = serializers.ChoiceField(OutageCause.choices, default=OutageCause.PROVIDER)
    description = serializers.CharField(required=False, allow_blank=True)


class SampleInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    service = serializers.IntegerField()
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="A party id.")
    metric = serializers.RegexField(r"^[a-z][a-z0-9_]{0,62}$", help_text="e.g. latency_ms")
    at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    value = serializers.FloatField(help_text="A finite number.")


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="In item order.")


class ReasonInput(InputSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required; shown to the customer."
    )


def _one_or_many(name: str, item: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[item, item(many=True)],
        resource_type_field_name=None,
        many=False,
    )


ERRORS_400 = OpenApiResponse(
    description="Nothing written. One object: field errors. A list: "
    '{"errors": {"<index>": {<field errors>}}}. The request as a whole: '
    '{"non_field_errors": [...]}.'
)

# --- views --------------------------------------------------------------------


def _error_body(exc: IngestionError, many: bool) -> dict[str, Any]:
    if many:
        body: dict[str, Any] = {"errors": {str(index): e for index, e in exc.items.items()}}
    else:
        body = dict(exc.items.get(0, {}))
    if exc.general:
        body["non_field_errors"] = exc.general
    return body


class _IngestionViewSet(ScopedModelViewSet):
    """List, detail and bulk upsert; no PUT/PATCH/DELETE (send the item again instead)."""

    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [SafeJSONParser]
    ingest: Callable[..., IngestResult]
    detail_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action != "list" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = request.data
        many = isinstance(data, list)
        if many and len(data) > MAX_ITEMS:
            message = f"At most {MAX_ITEMS} items per request; split the batch."
            return Response({"non_field_errors": [message]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = self.ingest(items=data if many else [data], acting_user=request.user)
        except IngestionError as exc:
            return Response(_error_body(exc, many), status=status.HTTP_400_BAD_REQUEST)
        body = {"created": result.created, "updated": result.updated, "ids": result.ids}
        return Response(body, status=status.HTTP_201_CREATED)


class _ExclusionActions(ScopedModelViewSet):
    """POST {id}/exclude/ and {id}/reinstate/ with {"reason"}; provider managers only."""

    def _decide(self, request: Request, decide: Callable[..., object]) -> Response:
        measurement = self.get_object()
        payload = ReasonInput(data=request.data)
        payload.is_valid(raise_exception=True)
        decide(
            measurement=measurement,
            reason=payload.validated_data["reason"],
            acting_user=request.user,
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ReasonInput)
    @action(detail=True, methods=["post"])
    def exclude(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, measurement_exclude)

    @extend_schema(request=ReasonInput)
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, measurement_reinstate)


CREATE_DESCRIPTION = (
    "Send one object or a list (at most 10,000). A repeated external_id updates its row "
    "(a ticket's pauses are replaced by the new list; no pauses means none); exclusion "
    "decisions are kept. Timestamps are ISO 8601 with a UTC offset. All or nothing: "
    "201 {created, updated, ids (in item order)}; on any error 400 and nothing is "
    'written: one object -> field errors {"opened_at": ["..."], "pauses": {"0": {"end": '
    '["..."]}}}; a list -> {"errors": {"<index>": {<field errors>}}}; the request as a '
    'whole -> {"non_field_errors": ["..."]}.'
)


def _create_schema(name: str, item: type[serializers.Serializer]) -> dict[str, Any]:
    return {
        "create": extend_schema(
            summary=f"Upsert one {name} or a list of them (atomic, idempotent by external_id)",
            description=CREATE_DESCRIPTION,
            request=_one_or_many(f"{name.title()}Ingest", item),
            responses={201: IngestResultSerializer, 400: ERRORS_400},
        )
    }


@extend_schema_view(**_create_schema("ticket", TicketInput))
class TicketViewSet(_ExclusionActions, _IngestionViewSet):
    serializer_class = TicketSerializer
    detail_serializer_class = TicketDetailSerializer
    filterset_class = TicketFilter
    ingest = staticmethod(ticket_ingest)

    def scoped_queryset(self, user):
        queryset = ticket_list_visible(user).select_related("excluded_by")
        if self.action != "list":
            queryset = queryset.prefetch_related("exclusion_events__by")
        return queryset


@extend_schema_view(**_create_schema("outage", OutageInput))
class OutageViewSet(_ExclusionActions, _IngestionViewSet):
    serializer_class = OutageSerializer
    detail_serializer_class = OutageDetailSerializer
    filterset_class = OutageFilter
    ingest = staticmethod(outage_ingest)

    def scoped_queryset(self, user):
        queryset = outage_list_visible(user).select_related("excluded_by")
        if self.action != "list":
            queryset = queryset.prefetch_related("exclusion_events__by")
        return queryset


@extend_schema_view(**_create_schema("sample", SampleInput))
class SampleViewSet(_IngestionViewSet):
    serializer_class = SampleSerializer
    filterset_class = SampleFilter
    ingest = staticmethod(sample_ingest)

    def scoped_queryset(self, user):
        return sample_list_visible(user)


def register(router) -> None:
    """Add the ingestion endpoints to the API router (config/urls_api.py)."""
    router.register("tickets", TicketViewSet, basename="ticket")
    router.register("outages", OutageViewSet, basename="outage")
    router.register("samples", SampleViewSet, basename="sample")
