"""/api/v1/credits/ (the ledger and its moves), POST /api/v1/agreements/{id}/evaluate/ and
POST /api/v1/revisions/{id}/what-if/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_list_visible
from apps.calendars.periods import period_from_text
from apps.compliance.api import ComplianceResultSerializer
from apps.core.api import InputSerializer
from apps.credits.fields import MoneyField
from apps.credits.models import CreditEvent, ServiceCredit
from apps.credits.selectors import credit_list_visible
from apps.credits.settlement import period_settle
from apps.credits.transitions import (
    credit_approve,
    credit_dispute,
    credit_issue,
    credit_resolve,
    credit_void,
)
from apps.credits.whatif_api import WhatIfViewSet
from apps.revisions.models import Comparison

# --- /api/v1/credits/ ---------------------------------------------------------


class CreditObjectiveSerializer(serializers.Serializer):
    """One missed objective of a credit (documentation of the ``objectives`` items)."""

    result = serializers.IntegerField()
    objective = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="The revision defining the objective.")
    key = serializers.CharField()
    metric = serializers.CharField()
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    target = serializers.CharField()
    attained = serializers.CharField(allow_null=True)
    tier = serializers.IntegerField(allow_null=True, help_text="The tier that won; null: none.")
    below = serializers.CharField(allow_null=True)
    percent = serializers.CharField(help_text="Percent of the fee this objective earned.")


@extend_schema_field(CreditObjectiveSerializer(many=True))
class CreditObjectivesField(serializers.JSONField):
    pass


class CreditEventSerializer(serializers.ModelSerializer):
    by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    amount = MoneyField(currency_of=lambda event: event.credit.currency)

    class Meta:
        model = CreditEvent
        fields = ["from_status", "to_status", "note", "amount", "by", "at"]
        read_only_fields = fields


class ServiceCreditSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency_of=lambda credit: credit.currency)
    fee_basis = MoneyField(currency_of=lambda credit: credit.currency)
    objectives = CreditObjectivesField(read_only=True)
    events = CreditEventSerializer(many=True, read_only=True)

    class Meta:
        model = ServiceCredit
        fields = [
            "id",
            "agreement",
            "revision",
            "period",
            "percent",
            "uncapped_percent",
            "cap_percent",
            "fee_basis",
            "amount",
            "currency",
            "status",
            "objectives",
            "resolution",
            "calculated_at",
            "events",
        ]
        read_only_fields = fields


# The inputs check only shapes (types, decimals); the services own the rules
# (a note to dispute or void, a resolution to resolve), so a wrong role gets
# 403 before a missing text gets 400. The *Request serializers document the
# required texts in the schema.


class CreditNoteSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CreditNoteRequest(InputSerializer):
    note = serializers.CharField(help_text="Why (required).")


class CreditResolveSerializer(InputSerializer):
    resolution = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="The agreed amount, 0 … the period's cap; omitted: unchanged.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CreditResolveRequest(CreditResolveSerializer):
    resolution = serializers.CharField(help_text="How the dispute was resolved (required).")


def _visible_agreements(request):
    if request is None:  # schema generation
        return Agreement.objects.none()
    return agreement_list_visible(request.user)


class ServiceCreditFilter(filters.FilterSet):
    """?agreement= accepts only agreements the user sees: another customer's id is
    as invalid as one that does not exist (no existence oracle)."""

    agreement = filters.ModelChoiceFilter(queryset=_visible_agreements)

    class Meta:
        model = ServiceCredit
        fields = ["agreement", "period", "status"]


class ServiceCreditViewSet(viewsets.ReadOnlyModelViewSet):
    """Service credits, calculated from compliance results; read-only but for their lifecycle.

    Provider staff see every credit, customers those of their agreements. Only
    provider managers approve, issue, resolve and void; a manager of the
    customer disputes. Each move answers with the credit, events included.
    """

    serializer_class = ServiceCreditSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = ServiceCreditFilter

    def get_queryset(self):
        return credit_list_visible(self.request.user)

    def _move(self, request, service: Callable[..., ServiceCredit], params_class) -> Response:
        params = params_class(data=request.data or {})
        params.is_valid(raise_exception=True)
        credit = service(
            credit=self.get_object(), acting_user=request.user, **params.validated_data
        )
        credit = self.get_queryset().get(pk=credit.pk)
        return Response(self.get_serializer(credit).data)

    @extend_schema(request=CreditNoteSerializer, responses=ServiceCreditSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A provider manager approves a calculated credit."""
        return self._move(request, credit_approve, CreditNoteSerializer)

    @extend_schema(request=CreditNoteSerializer, responses=ServiceCreditSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """A provider manager issues an approved or resolved credit; the period becomes final."""
        return self._move(request, credit_issue, CreditNoteSerializer)

    @extend_schema(request=CreditNoteRequest, responses=ServiceCreditSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """A manager of the customer disputes a calculated or approved credit, saying why."""
        return self._move(request, credit_dispute, CreditNoteSerializer)

    @extend_schema(request=CreditResolveRequest, responses=ServiceCreditSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """A provider manager resolves a dispute, optionally with a new amount."""
        return self._move(request, credit_resolve, CreditResolveSerializer)

    @extend_schema(request=CreditNoteRequest, responses=ServiceCreditSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """A provider manager voids a credit that has not been issued, saying why."""
        return self._move(request, credit_void, CreditNoteSerializer)


class EvaluateSerializer(InputSerializer):
    period = serializers.CharField(max_length=16, help_text="YYYY-MM (month) or YYYY-Qn (quarter)")


class SettlementViewSet(viewsets.GenericViewSet):
    """POST agreements/{id}/evaluate/: settle one agreement for a period (provider staff)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ComplianceResultSerializer
    pagination_class = None  # the answer is the period's results, a plain list

    def get_queryset(self):
        return agreement_list_visible(self.request.user)

    @extend_schema(request=EvaluateSerializer, responses=ComplianceResultSerializer(many=True))
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        """Evaluate every effective objective (inherited ones included) for a period; once
        the period has ended, also calculate its credit."""
        agreement = self.get_object()  # out of sight: a 404 before any input check
        params = EvaluateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        period = period_from_text(params.validated_data["period"])
        evaluation = period_settle(agreements=[agreement], period=period, acting_user=request.user)
        return Response(ComplianceResultSerializer(evaluation.results, many=True).data)


def register(router: BaseRouter) -> None:
    """Register /credits/, agreements/{id}/evaluate/ and revisions/{id}/what-if/ on the API
    router (the revisions app knows nothing of credits, so the what-if is routed from here)."""
    router.register("credits", ServiceCreditViewSet, basename="credit")
    router.register("agreements", SettlementViewSet, basename="agreement-settlement")
    router.register("revisions", WhatIfViewSet, basename="revision-what-if")
