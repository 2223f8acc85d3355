"""Compliance in the API: GET compliance/ and GET agreements/{id}/at-risk/.

(POST agreements/{id}/evaluate/ settles a period, credits included: apps.credits.api.)
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.agreements.selectors import agreement_list_visible
from apps.compliance.models import ComplianceResult
from apps.compliance.risk import at_risk
from apps.compliance.selectors import result_list_visible
from apps.core.filters import ScopedFilterSet
from apps.core.params import parse_whole_number

MAX_HORIZON = 90 * 86400


class ComplianceResultSerializer(serializers.ModelSerializer):
    objective: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    revision: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    agreement: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
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


class AtRiskViewSet(viewsets.GenericViewSet):
    """GET agreements/{id}/at-risk/: error budget left and tickets about to breach."""

    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return agreement_list_visible(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "horizon",
                OpenApiTypes.INT,
                description="Seconds ahead to look for tickets about to breach (default 14400).",
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], url_path="at-risk")
    def at_risk(self, request, pk=None):
        """Error budget left in the open periods, and tickets about to breach (or past)."""
        horizon = parse_whole_number(
            request.query_params.get("horizon", "14400"), name="horizon", maximum=MAX_HORIZON
        )
        report = at_risk(self.get_object(), horizon=timedelta(seconds=horizon))
        return Response(asdict(report))


def register(router: BaseRouter) -> None:
    """Register /compliance/ and agreements/{id}/at-risk/ on the API router."""
    router.register("compliance", ComplianceViewSet, basename="compliance")
    router.register("agreements", AtRiskViewSet, basename="agreement-risk")
