"""GET /api/v1/agreements/{id}/openslo/: the objectives in force as OpenSLO v1 YAML.

Scoped like the agreement itself: provider staff and users of the agreement's
customer (or a party above it) get it; another customer's agreement is a 404,
another tenant's token or no credentials a 401.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.routers import BaseRouter

from apps.agreements.selectors import agreement_list_visible
from apps.core.validators import validate_date_in_range
from apps.revisions.openslo.export import agreement_openslo

MEDIA_TYPE = "application/yaml"


def _on(request: Request) -> date:
    text = request.query_params.get("on")
    if text is None:
        return timezone.localdate()
    try:
        moment = date.fromisoformat(text.strip()) if text.strip().isascii() else None
    except ValueError:
        moment = None
    if moment is None or len(text.strip()) != 10:
        raise ValidationError({"on": "Give a date as YYYY-MM-DD."})
    try:
        validate_date_in_range(moment)
    except ValidationError as exc:
        raise ValidationError({"on": exc.messages}) from exc
    return moment


class OpenSLOViewSet(viewsets.GenericViewSet):
    """agreements/{id}/openslo/."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer]  # errors; the document itself is returned as YAML

    def get_queryset(self):
        return agreement_list_visible(self.request.user)

    @extend_schema(
        summary="The agreement's objectives in force as OpenSLO v1 documents (YAML)",
        description=(
            "A YAML stream (application/yaml) of OpenSLO v1 documents: a Service per service "
            "the objectives are about and an SLO per objective in force on the date, inherited "
            "ones included, each with its indicator inline, a calendar-aligned 1M or 1Q time "
            "window in the timezone of the objective's calendar and budgeting method "
            "Occurrences. What OpenSLO has no field for (business hours, priority, credit "
            "tiers, the exact target …) is in metadata.annotations under sla-portal/; "
            "objectives OpenSLO cannot express are left out and named in a comment at the "
            "top. Read back by manage.py openslo_import."
        ),
        parameters=[
            OpenApiParameter(
                "on",
                OpenApiTypes.DATE,
                description="The day whose objectives in force are exported (default today).",
            )
        ],
        responses={
            (200, MEDIA_TYPE): OpenApiResponse(
                # A YAML stream: several documents, read as a list (yaml.safe_load_all).
                {"type": "array", "items": {"type": "object"}},
                description="OpenSLO v1 YAML: a stream of documents (Service, SLO, …).",
            ),
            400: OpenApiResponse(description='A bad date: {"on": ["..."]}.'),
        },
    )
    @action(detail=True, methods=["get"], url_path="openslo")
    def openslo(self, request: Request, pk: str | None = None) -> HttpResponse:
        agreement = self.get_object()
        on = _on(request)
        text = agreement_openslo(agreement=agreement, on=on).to_yaml()
        response = HttpResponse(text, content_type=f"{MEDIA_TYPE}; charset=utf-8")
        filename = f"openslo-agreement-{agreement.pk}-{on.isoformat()}.yaml"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response


def register(router: BaseRouter) -> None:
    """Register agreements/{id}/openslo/ on the API router."""
    router.register("agreements", OpenSLOViewSet, basename="agreement-openslo")
