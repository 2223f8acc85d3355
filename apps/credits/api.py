"""/api/v1/credit-tiers/ and /api/v1/credits/"""

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
from apps.core.api import ScopedModelViewSet, ServiceSerializer
from apps.credits.calculation import money_round
from apps.credits.models import CreditEvent, CreditTier, ServiceCredit
from apps.credits.selectors import credit_list_visible
from apps.credits.services import (
    credit_approve,
    credit_dispute,
    credit_issue,
    credit_resolve,
    credit_tier_delete,
    credit_tier_save,
    credit_void,
)
from apps.metrics.models import Objective
from apps.revisions.models import Revision
from apps.revisions.selectors import revision_list_visible


class CreditTierSerializer(ServiceSerializer):
    revision = serializers.PrimaryKeyRelatedField(queryset=Revision.objects.all())
    objective = serializers.PrimaryKeyRelatedField(
        queryset=Objective.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = CreditTier
        fields = ["id", "revision", "objective", "below", "percent"]

    def save_with(self, *, instance, acting_user, data):
        return credit_tier_save(tier=instance, acting_user=acting_user, **data)


class CreditTierViewSet(ScopedModelViewSet):
    serializer_class = CreditTierSerializer
    filterset_fields = ["revision", "objective"]

    def scoped_queryset(self, user):
        return CreditTier.objects.select_related("objective").filter(
            revision__in=revision_list_visible(user).values("pk")
        )

    def perform_destroy(self, instance):
        credit_tier_delete(tier=instance, acting_user=self.request.user)


# --- /api/v1/credits/ ---------------------------------------------------------


@extend_schema_field({"type": "string", "example": "125.00"})
class MoneyField(serializers.Field):
    """An amount as a string with exactly the currency's minor-unit digits ("125.00", "125")."""

    def __init__(self, *, currency_of: Callable[[Any], str], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_of = currency_of

    def get_attribute(self, instance: Any) -> Any:
        return instance

    def to_representation(self, instance: Any) -> str | None:
        value = getattr(instance, self.source or self.field_name)
        if value is None:
            return None
        return str(money_round(value, self.currency_of(instance)))


class CreditObjectiveSerializer(serializers.Serializer):
    """One missed objective of a credit (documentation of the ``objectives`` items)."""

    result = serializers.IntegerField()
    objective = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="The revision defining the objective.")
    key = serializers.CharField()
    metric = serializers.CharField()
    comparison = serializers.ChoiceField(choices=["gte", "lte"])
    target = serializers.CharField()
    attained = serializers.CharField(allow_null=True)
    tier = serializers.IntegerField(allow_null=True, help_text="The tier that won; null: none.")
    below = serializers.CharField(allow_null=True)
    percent = serializers.CharField(help_text="Percent of the fee this objective earned.")


@extend_schema_field(CreditObjectiveSerializer(many=True))
class CreditObjectivesField(serializers.JSONField):
    pass


class CreditEventSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)
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


class CreditNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CreditNoteRequest(serializers.Serializer):
    note = serializers.CharField(help_text="Why (required).")


class CreditResolveSerializer(serializers.Serializer):
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


def register(router: BaseRouter) -> None:
    """Register /credits/ (basename ``credit``) on the API router."""
    router.register("credits", ServiceCreditViewSet, basename="credit")
