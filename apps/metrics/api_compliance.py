"""Compliance in the API: POST agreements/{id}/evaluate/ and GET compliance/."""

from __future__ import annotations

from rest_framework import mixins, permissions, serializers, viewsets

from apps.core.filters import ScopedFilterSet
from apps.metrics.compliance import result_list_visible
from apps.metrics.results import ComplianceResult


class ComplianceResultSerializer(serializers.ModelSerializer):
    objective = serializers.PrimaryKeyRelatedField(read_only=True)
    revision = serializers.PrimaryKeyRelatedField(read_only=True)
    agreement = serializers.PrimaryKeyRelatedField(read_only=True)
    revision_number = serializers.IntegerField(source="revision.number", read_only=True)

    class Meta:
        model = ComplianceResult
        fields = [
            "id",
            "agreement",
            "objective",
            "key",
            "metric",
            "period",
            "period_start",
            "period_end",
            "target",
            "comparison",
            "attained",
            "margin",
            "status",
            "data_points",
            "revision",
            "revision_number",
            "inherited",
            "detail",
            "computed_at",
            "final",
        ]
        read_only_fields = fields


class EvaluateSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM (month) or YYYY-Qn (quarter)")


class ComplianceFilter(ScopedFilterSet):
    class Meta:
        model = ComplianceResult
        fields = ["agreement", "period", "status", "key", "metric", "final"]


class ComplianceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Compliance results; customers see their agreements' results only."""

    serializer_class = ComplianceResultSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = ComplianceFilter

    def get_queryset(self):
        return result_list_visible(self.request.user)
