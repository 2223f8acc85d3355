"""/api/v1/revisions/ (approve, accept, new-draft, diff), objectives/ and credit-tiers/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.agreements.models import Agreement
from apps.core.api import InputSerializer, ScopedModelViewSet, ServiceSerializer
from apps.core.net import client_ip
from apps.core.params import parse_whole_number
from apps.core.validators import validate_date_in_range
from apps.revisions.diff import diff_base, revision_diff
from apps.revisions.models import (
    LIFECYCLE_FIELDS,
    OBJECTIVE_TERMS,
    CreditTier,
    Objective,
    Revision,
    SectionKey,
)
from apps.revisions.selectors import (
    credit_tier_list_visible,
    objective_list_visible,
    revision_list_visible,
)
from apps.revisions.services import (
    credit_tier_delete,
    credit_tier_save,
    objective_delete,
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
    revision_delete_draft,
    revision_new_draft,
    revision_update,
)


@extend_schema_field(
    {
        "type": "object",
        "properties": {key: {"type": "string"} for key in SectionKey.values},
        "additionalProperties": False,
    }
)
class SectionsField(serializers.Field):
    """{"overview": "...", "escalation": "...", ...} <-> RevisionSection rows."""

    def to_representation(self, revision: Revision) -> dict[str, str]:
        return {section.key: section.body for section in revision.sections.all()}

    def get_attribute(self, instance):
        return instance

    def to_internal_value(self, data) -> dict[str, str]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object of section name → text.")
        unknown = sorted(set(data) - set(SectionKey.values))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown section(s): {', '.join(unknown)}; "
                f"allowed: {', '.join(SectionKey.values)}."
            )
        if not all(isinstance(value, str) for value in data.values()):
            raise serializers.ValidationError("Section texts must be strings.")
        return data


class RevisionSerializer(ServiceSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())
    sections = SectionsField(required=False)
    is_binding = serializers.BooleanField(read_only=True)

    class Meta:
        model = Revision
        fields = [
            "id",
            "agreement",
            "number",
            "status",
            "effective_from",
            "summary",
            "sections",
            "credit_cap_percent",
            "is_binding",
            "created_from",
            "approved_by",
            "approved_at",
            "accepted_by",
            "accepted_at",
            "superseded_at",
            "superseded_by_number",
            "created_at",
        ]
        read_only_fields = [*LIFECYCLE_FIELDS, "created_at"]

    def validate_agreement(self, agreement):
        if self.instance is not None and agreement.pk != self.instance.agreement_id:
            raise serializers.ValidationError("A revision cannot move to another agreement.")
        return agreement

    def save_with(self, *, instance, acting_user, data):
        sections = data.pop("sections", None)
        if instance is None:
            return revision_create(acting_user=acting_user, sections=sections, **data)
        data.pop("agreement", None)
        return revision_update(
            revision=instance, acting_user=acting_user, sections=sections, **data
        )


class NewDraftSerializer(InputSerializer):
    effective_from = serializers.DateField(required=False, validators=[validate_date_in_range])


class RevisionViewSet(ScopedModelViewSet):
    serializer_class = RevisionSerializer
    filterset_fields = ["agreement", "status", "number"]

    def scoped_queryset(self, user):
        return revision_list_visible(user).prefetch_related("sections")

    def perform_destroy(self, instance):
        revision_delete_draft(revision=instance, acting_user=self.request.user)

    def _respond(self, revision: Revision, code: int = status.HTTP_200_OK) -> Response:
        revision = self.scoped_queryset(self.request.user).get(pk=revision.pk)
        return Response(
            RevisionSerializer(revision, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=None, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A provider manager approves a draft; it becomes immutable."""
        return self._respond(revision_approve(revision=self.get_object(), acting_user=request.user))

    @extend_schema(request=None, responses=RevisionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def accept(self, request, pk=None):
        """A manager of the customer accepts an approved revision; it becomes binding.

        Recorded with the user, the time and the client's address, as in the portal."""
        accepted = revision_accept(
            revision=self.get_object(), acting_user=request.user, from_address=client_ip(request)
        )
        return self._respond(accepted)

    @extend_schema(request=NewDraftSerializer, responses={201: RevisionSerializer})
    @action(detail=True, methods=["post"], url_path="new-draft")
    def new_draft(self, request, pk=None):
        """A new draft copying this revision's text, objectives and credit tiers."""
        params = NewDraftSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        draft = revision_new_draft(
            revision=self.get_object(), acting_user=request.user, **params.validated_data
        )
        return self._respond(draft, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "against",
                OpenApiTypes.INT,
                description="id of the revision to compare with (default: the previous one)",
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Text changes per section and objectives/credit tiers added, removed, changed."""
        revision = self.get_object()
        against = None
        if "against" in request.query_params:
            number = parse_whole_number(request.query_params["against"], name="against")
            against = get_object_or_404(self.get_queryset(), pk=number)
        base = diff_base(revision, among=self.get_queryset(), against=against)
        if base is None:
            return Response(
                {"against": ["This is the first revision; give ?against=<id> of a later one."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(revision_diff(base, revision).as_dict())


class ObjectiveSerializer(ServiceSerializer):
    revision = serializers.PrimaryKeyRelatedField(queryset=Revision.objects.all())

    class Meta:
        model = Objective
        fields = ["id", "revision", *OBJECTIVE_TERMS]

    def validate_revision(self, revision):
        if self.instance is not None and revision.pk != self.instance.revision_id:
            raise serializers.ValidationError("An objective cannot move to another revision.")
        return revision

    def save_with(self, *, instance, acting_user, data):
        return objective_save(objective=instance, acting_user=acting_user, **data)


class ObjectiveViewSet(ScopedModelViewSet):
    serializer_class = ObjectiveSerializer
    filterset_fields = ["revision", "metric", "key", "revision__agreement"]

    def scoped_queryset(self, user):
        return objective_list_visible(user)

    def perform_destroy(self, instance):
        objective_delete(objective=instance, acting_user=self.request.user)


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
        return credit_tier_list_visible(user)

    def perform_destroy(self, instance):
        credit_tier_delete(tier=instance, acting_user=self.request.user)
