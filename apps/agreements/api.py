"""/api/v1/services/ and /api/v1/agreements/ (with mark-reviewed/).

Compliance and settlement add their own actions under agreements/{id}/
(apps.compliance.api: at-risk/; apps.credits.api: evaluate/).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.agreements.models import Agreement, Service
from apps.agreements.selectors import agreement_list_visible, service_list_visible
from apps.agreements.services import agreement_mark_reviewed, agreement_save, service_save
from apps.calendars.models import Calendar
from apps.core.api import InputSerializer, ScopedModelViewSet, ServiceSerializer
from apps.core.money import money_text
from apps.core.validators import validate_date_in_range
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


class AgreementSerializer(ServiceSerializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    customer = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # see PartySerializer
        queryset=Agreement.objects.all(), allow_null=True, required=False
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=Calendar.objects.all(),
        allow_null=True,
        required=False,
        help_text="Business hours of the objectives that name no calendar (null: the parent "
        "agreement's, else the tenant's default calendar, else 24×7).",
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
            "calendar",
            "monthly_fee",
            "currency",
            "requires_acceptance",
            "term_start",
            "term_end",
            "signed_on",
            "review_every_months",
            "next_review_on",
            "last_reviewed_on",
            "status",
            "revision_count",
            "age_days",
            "review_due",
        ]
        read_only_fields = ["kind", "signed_on", "last_reviewed_on"]

    @extend_schema_field(serializers.IntegerField())
    def get_revision_count(self, agreement: Agreement) -> int:
        count = getattr(agreement, "revision_count", None)
        return count if count is not None else agreement.revisions.count()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["monthly_fee"] = money_text(instance.monthly_fee, instance.currency)
        return data

    def save_with(self, *, instance, acting_user, data):
        return agreement_save(agreement=instance, acting_user=acting_user, **data)


class MarkReviewedSerializer(InputSerializer):
    reviewed_on = serializers.DateField(
        required=False, help_text="Default: today.", validators=[validate_date_in_range]
    )


class AgreementViewSet(ScopedModelViewSet):
    serializer_class = AgreementSerializer
    filterset_fields = ["customer", "provider", "tier", "status", "parent", "kind"]

    def scoped_queryset(self, user):
        return agreement_list_visible(user)

    @extend_schema(request=MarkReviewedSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], url_path="mark-reviewed")
    def mark_reviewed(self, request, pk=None):
        """Record a review of the agreement (default today); the next one is scheduled."""
        params = MarkReviewedSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        agreement = agreement_mark_reviewed(
            agreement=self.get_object(),
            reviewed_on=params.validated_data.get("reviewed_on") or timezone.localdate(),
            acting_user=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=agreement.pk)).data)
