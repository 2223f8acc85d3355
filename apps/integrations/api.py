"""/api/v1/integrations/…: webhook receivers for Prometheus Alertmanager and Jira.

- ``POST integrations/alertmanager/`` — an Alertmanager ``webhook_config`` body
  (version 4) -> outages. Token (``Authorization: Token …``, which Alertmanager's
  ``http_config.authorization`` sends) or session; provider staff only.
- ``POST integrations/jira/`` — a Jira webhook body -> tickets. Same auth, for
  senders that can set a header (Jira Automation's "Send web request", a proxy).
- ``POST integrations/jira/{connector}/{secret}/`` — the same, authenticated by the
  connector's secret in the path, for Jira's own webhooks, which cannot send
  headers. The event is recorded as sent by the connector's ``run_as`` user.

``?connector=<id>`` picks the connector when a tenant has several active ones of a
kind. Answers: 200 ``{"created", "updated", "skipped": [...]}`` (+ ``"ticket"`` for
Jira); 400 with field messages for a malformed payload (nothing written); 401
without credentials or with another tenant's token; 403 for customers; 404 for an
unknown connector id or a wrong secret. Bodies are parsed with the safe JSON
parser and bounded (``MAX_BODY_BYTES``, ``alertmanager.MAX_ALERTS``); vendor
payloads are read tolerantly (unknown keys ignored), so the request serializers
below document the keys that are used and validate nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from apps.core.access import is_provider_staff
from apps.core.params import parse_whole_number
from apps.core.parsers import SafeJSONParser
from apps.integrations.alertmanager import MAX_ALERTS
from apps.integrations.models import Connector, ConnectorKind
from apps.integrations.payloads import PayloadError
from apps.integrations.selectors import NoConnector, connector_by_secret, connector_for_kind
from apps.integrations.services import Received, alertmanager_receive, jira_receive

MAX_BODY_BYTES = 8 * 1024 * 1024

# --- documentation of the bodies (nothing is validated by these) ----------------------


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="firing or resolved")
    labels = serializers.DictField(
        child=serializers.CharField(), help_text="The service label picks the service."
    )
    annotations = serializers.DictField(child=serializers.CharField(), required=False)
    startsAt = serializers.DateTimeField()
    endsAt = serializers.DateTimeField(help_text="0001-01-01T00:00:00Z while firing.")
    fingerprint = serializers.RegexField(r"^[0-9a-fA-F]{1,32}$")


class AlertmanagerWebhookSerializer(serializers.Serializer):
    version = serializers.CharField(required=False, help_text='"4" (the only one understood)')
    status = serializers.CharField(required=False, help_text="firing or resolved (the group)")
    alerts = AlertmanagerAlertSerializer(many=True, help_text=f"At most {MAX_ALERTS}.")


class JiraWebhookSerializer(serializers.Serializer):
    timestamp = serializers.IntegerField(help_text="Epoch milliseconds: the event's time.")
    webhookEvent = serializers.CharField(
        help_text="jira:issue_created, jira:issue_updated or comment_created; others are skipped."
    )
    issue = serializers.JSONField(
        help_text="key; fields.created, project.key, components[].name, priority.name, "
        "status.name, resolutiondate."
    )
    changelog = serializers.JSONField(
        required=False, help_text="id; items[] with fieldId/field, fromString, toString."
    )
    comment = serializers.JSONField(
        required=False, help_text="comment_created: id, created, jsdPublic, author.accountType."
    )


class SkippedAlertSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    reason = serializers.CharField()


class AlertmanagerResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Outages created.")
    updated = serializers.IntegerField(help_text="Outages updated (a repeat).")
    skipped = SkippedAlertSerializer(many=True, help_text="Alerts not taken, and why.")


class SkippedIssueSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The issue key; empty for an unused event.")
    reason = serializers.CharField()


class JiraResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="1 when the event created the ticket.")
    updated = serializers.IntegerField(help_text="1 when it rebuilt an existing ticket.")
    ticket = serializers.IntegerField(allow_null=True, help_text="The issue's ticket id.")
    skipped = SkippedIssueSerializer(many=True)


ERRORS_400 = OpenApiResponse(
    description="Malformed payload, nothing written: field messages by path, e.g. "
    '{"alerts": {"0": {"startsAt": ["..."]}}} or {"issue": {"key": ["..."]}}; '
    'no or several connectors: {"connector": ["..."]}.'
)
CONNECTOR_PARAMETER = OpenApiParameter(
    "connector",
    OpenApiTypes.INT,
    description="The connector's id; needed only when several active ones of the kind exist.",
)

# --- views ----------------------------------------------------------------------------


class ProviderStaffOnly(permissions.BasePermission):
    message = "Only provider staff may send measurements."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_provider_staff(request.user)


def _too_large(request: Request) -> Response | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        message = f"At most {MAX_BODY_BYTES // (1024 * 1024)} MB per request."
        return Response({"non_field_errors": [message]}, status=status.HTTP_400_BAD_REQUEST)
    return None


def _body(received: Received, *, jira: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"created": received.created, "updated": received.updated}
    if jira:
        body["ticket"] = received.ticket
    body["skipped"] = received.skipped
    return body


def _receive(
    request: Request,
    connector: Connector,
    receive: Callable[..., Received],
    acting_user: Any,
) -> Response:
    refused = _too_large(request)
    if refused is not None:
        return refused
    try:
        received = receive(connector=connector, payload=request.data, acting_user=acting_user)
    except PayloadError as exc:
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    jira = connector.kind == ConnectorKind.JIRA
    return Response(_body(received, jira=jira), status=status.HTTP_200_OK)


def _connector(request: Request, kind: str) -> Connector:
    raw = request.query_params.get("connector")
    pk = None if raw is None else parse_whole_number(raw, name="connector")
    try:
        return connector_for_kind(kind=kind, pk=pk)
    except NoConnector as exc:
        raise ValidationError({"connector": str(exc)}) from exc


class IntegrationViewSet(viewsets.ViewSet):
    """Webhook receivers; nothing to list or read."""

    permission_classes = [permissions.IsAuthenticated, ProviderStaffOnly]
    parser_classes = [SafeJSONParser]

    @extend_schema(
        summary="Receive a Prometheus Alertmanager webhook (version 4): alerts -> outages",
        description=(
            "Point an Alertmanager webhook_config here with http_config.authorization "
            "(type Token). Each alert is upserted as an outage with external_id "
            "am-<fingerprint>-<startsAt>: firing opens it, resolved closes it (endsAt). The "
            "connector's service label (default 'service') is looked up in its mappings; "
            "a maintenance label 'true' makes the outage planned; the cause label (default "
            "'cause': provider/customer/third_party) sets the cause, else provider. Alerts "
            "without a mapped service are skipped and listed. Idempotent: the same payload "
            "again updates the same outages. Unknown keys are ignored. Rules: "
            "apps/integrations/alertmanager.py."
        ),
        parameters=[CONNECTOR_PARAMETER],
        request=AlertmanagerWebhookSerializer,
        responses={200: AlertmanagerResultSerializer, 400: ERRORS_400},
    )
    @action(detail=False, methods=["post"])
    def alertmanager(self, request: Request) -> Response:
        connector = _connector(request, ConnectorKind.ALERTMANAGER)
        return _receive(request, connector, alertmanager_receive, request.user)

    @extend_schema(
        summary="Receive a Jira webhook (issue created/updated, comment created) -> a ticket",
        description=(
            "Each event is recorded with the issue and rebuilds its whole ticket (external_id "
            "jira-<key>): created -> opened_at; the first move out of the connector's initial "
            "status or the first public comment -> first_response_at; resolutiondate -> "
            "resolved_at; time in the waiting statuses -> pauses; component, else project "
            "key -> service via the mappings; priority via the connector's map. Replayed and "
            "out-of-order events give the same ticket. Other events are skipped. Rules: "
            "apps/integrations/jira.py. Jira's own webhooks cannot send a token header: use "
            "integrations/jira/{connector}/{secret}/ for them."
        ),
        parameters=[CONNECTOR_PARAMETER],
        request=JiraWebhookSerializer,
        responses={200: JiraResultSerializer, 400: ERRORS_400},
    )
    @action(detail=False, methods=["post"])
    def jira(self, request: Request) -> Response:
        connector = _connector(request, ConnectorKind.JIRA)
        return _receive(request, connector, jira_receive, request.user)

    @extend_schema(
        operation_id="integrations_jira_secret_create",
        summary="Receive a Jira webhook, authenticated by the connector's secret URL",
        description=(
            "The URL to give Jira (admin → Connectors shows it). The body and the answers "
            "are those of integrations/jira/; the event is recorded as sent by the "
            "connector's run-as user (provider staff). A wrong secret or an unknown or "
            "inactive connector is a 404; a run-as user who is not provider staff a 403."
        ),
        auth=[],
        request=JiraWebhookSerializer,
        responses={200: JiraResultSerializer, 400: ERRORS_400},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"jira/(?P<connector_id>[0-9]{1,18})/(?P<secret>[A-Za-z0-9_-]{1,128})",
        url_name="jira-secret",
        authentication_classes=[],
        permission_classes=[permissions.AllowAny],
    )
    def jira_secret(self, request: Request, connector_id: str, secret: str) -> Response:
        connector = connector_by_secret(pk=int(connector_id), secret=secret)
        if connector is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        run_as = connector.run_as
        if run_as is None or not is_provider_staff(run_as):
            message = "The connector's run-as user is not set or not provider staff."
            return Response({"detail": message}, status=status.HTTP_403_FORBIDDEN)
        return _receive(request, connector, jira_receive, run_as)


def register(router: BaseRouter) -> None:
    """Register /integrations/alertmanager/ and /integrations/jira/ on the API router."""
    router.register("integrations", IntegrationViewSet, basename="integration")
