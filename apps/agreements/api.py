"""/api/v1/services/ and /api/v1/agreements/"""

from dataclasses import asdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.agreements.models import Agreement, Service
from apps.agreements.selectors import agreement_list_visible, service_list_visible
from apps.agreements.services import agreement_save, service_save
from apps.core.api import ScopedModelViewSet, ServiceSerializer
from apps.core.currencies import MINOR_UNITS
from apps.metrics.api_compliance import ComplianceResultSerializer, EvaluateSerializer
from apps.metrics.compliance import compliance_evaluate, period_from_text
from apps.metrics.risk import at_risk
from apps.parties.models import Party


class ServiceItemSerializer(ServiceSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description"]

    def save_with(self, *, instance, acting_user, data):
        return service_save(service=instance, acting_user=acting_user, **data)


class ServiceViewSet(ScopedModelViewSet):
    serializer_class = ServiceItemSerializer

    def scoped_queryset(self, user):
        return service_list_visible(user)


def format_money(amount: Decimal, currency: str) -> str:
    """Amount rounded half-up to the currency's minor unit, as a string."""
    exponent = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    return str(amount.quantize(exponent, rounding=ROUND_HALF_UP))


class AgreementSerializer(ServiceSerializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    customer = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Agreement.objects.all(), allow_null=True, required=False
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    revision_count = serializers.SerializerMethodField()
    age_days = serializers.IntegerField(read_only=True, allow_null=True)
    review_due = serializers.BooleanField(read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "title",
            "provider",
            "customer",
            "kind",
            "tier",
            "parent",
            "services",
            "monthly_fee",
            "currency",
            "requires_acceptance",
            "term_start",
            "term_end",
            "signed_on",
            "review_every_months",
            "next_review_on",
            "status",
            "revision_count",
            "age_days",
            "review_due",
        ]
        read_only_fields = ["kind", "signed_on"]

    @extend_schema_field(serializers.IntegerField())
    def get_revision_count(self, agreement: Agreement) -> int:
        count = getattr(agreement, "revision_count", None)
        return count if count is not None else agreement.revisions.count()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["monthly_fee"] = format_money(instance.monthly_fee, instance.currency)
        return data

    def save_with(self, *, instance, acting_user, data):
        return agreement_save(agreement=instance, acting_user=acting_user, **data)


class AgreementViewSet(ScopedModelViewSet):
    serializer_class = AgreementSerializer
    filterset_fields = ["customer", "provider", "tier", "status", "parent", "kind"]

    def scoped_queryset(self, user):
        return agreement_list_visible(user)

    @extend_schema(request=EvaluateSerializer, responses=ComplianceResultSerializer(many=True))
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        """Evaluate every effective objective (inherited ones included) for a period."""
        params = EvaluateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        period = period_from_text(params.validated_data["period"])
        evaluation = compliance_evaluate(
            agreements=[self.get_object()], period=period, acting_user=request.user
        )
        return Response(ComplianceResultSerializer(evaluation.results, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "horizon",
                OpenApiTypes.INT,
                description=("Seconds ahead to look for tickets about to breach (default 14400)."),
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], url_path="at-risk")
    def at_risk(self, request, pk=None):
        """Error budget left in the open periods, and tickets about to breach (or past)."""
        horizon = request.query_params.get("horizon", "14400")
        if not horizon.isdigit() or int(horizon) > 90 * 86400:
            raise ValidationError({"horizon": "Give whole seconds, at most 90 days."})
        report = at_risk(self.get_object(), horizon=timedelta(seconds=int(horizon)))
        return Response(asdict(report))
