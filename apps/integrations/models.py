"""Connectors to monitoring and ticketing systems, their service mappings, Jira issue state.

A ``Connector`` is one configured source (a Prometheus Alertmanager, a Jira site);
its settings are plain fields, those of the other kind are ignored. A
``ServiceMapping`` says which of our services a label value (Alertmanager) or a
project key / component name (Jira) stands for. A ``JiraIssue`` keeps what the
webhooks told about one issue, so each event can rebuild the whole ticket (the
rules are in ``apps.integrations.jira``; the package docstring has the overview).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

PRIORITY_MAX_LENGTH = 16  # Ticket.priority
DEFAULT_PRIORITY_MAP = "Highest = P1\nHigh = P2\nMedium = P3\nLow = P4\nLowest = P5"

label_name = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]*\Z",
    "A Prometheus label name: letters, digits and underscores, not starting with a digit.",
)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_priority_map(text: str) -> dict[str, str]:
    """``"Highest = P1"`` lines -> {"highest": "P1"} (Jira names compared case-insensitively).

    Raises ValidationError naming the first bad line.
    """
    table: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        jira, sep, ours = (part.strip() for part in line.partition("="))
        if not sep or not jira or not ours:
            raise ValidationError(f"Line {number}: write 'Jira priority = our priority'.")
        if len(ours) > PRIORITY_MAX_LENGTH:
            raise ValidationError(
                f"Line {number}: our priority has at most {PRIORITY_MAX_LENGTH} characters."
            )
        table[jira.casefold()] = ours
    return table


def parse_status_list(text: str) -> frozenset[str]:
    """``"Waiting for customer, Pending"`` (or ``"critical, page"``) -> the case-folded names."""
    return frozenset(name.strip().casefold() for name in text.split(",") if name.strip())


class ConnectorKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    JIRA = "jira", _("Jira / Jira Service Management")


class Connector(models.Model):
    kind = models.CharField(max_length=16, choices=ConnectorKind.choices)
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True, help_text="Inactive connectors refuse events.")
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Jira only: events posted to the connector's secret URL are recorded as sent "
        "by this user, who must be provider staff. Not needed when Jira sends a token header.",
    )
    secret = models.CharField(
        max_length=64,
        default=new_secret,
        editable=False,
        help_text="Part of the Jira webhook URL; rotate it in the connector list's actions.",
    )
    # --- Alertmanager ---
    service_label = models.CharField(
        max_length=100,
        default="service",
        validators=[label_name],
        help_text="Alertmanager: the alert label whose value is looked up in the mappings.",
    )
    maintenance_label = models.CharField(
        max_length=100,
        default="maintenance",
        validators=[label_name],
        help_text='Alertmanager: an alert with this label set to "true" is planned maintenance.',
    )
    cause_label = models.CharField(
        max_length=100,
        default="cause",
        blank=True,
        validators=[label_name],
        help_text="Alertmanager: a label naming the cause (provider, customer, third_party); "
        "absent or another value: provider. Empty: always provider.",
    )
    severity_label = models.CharField(
        max_length=100,
        default="severity",
        validators=[label_name],
        help_text="Alertmanager: the alert label holding the severity.",
    )
    outage_severities = models.CharField(
        max_length=500,
        blank=True,
        help_text="Alertmanager: comma-separated severities that are outages (e.g. "
        "'critical, page'); other alerts are skipped and listed. Empty: every alert is one.",
    )
    customer_label = models.CharField(
        max_length=100,
        blank=True,
        validators=[label_name],
        help_text="Alertmanager, optional: a label naming the customer party (its exact name); "
        "without the label an outage belongs to no customer (it counts for every agreement "
        "covering its service).",
    )
    # --- Jira ---
    initial_status = models.CharField(
        max_length=100,
        default="Open",
        help_text="Jira: the workflow's first status; the first move out of it is the first "
        "response (or the first public comment, if earlier).",
    )
    waiting_statuses = models.CharField(
        max_length=500,
        default="Waiting for customer",
        blank=True,
        help_text="Jira: comma-separated statuses that pause the SLA clock (waiting on the "
        "customer). Compared case-insensitively.",
    )
    priority_map = models.TextField(
        default=DEFAULT_PRIORITY_MAP,
        blank=True,
        help_text="Jira: one 'Jira priority = our priority' per line (case-insensitive on the "
        "Jira side). An unlisted Jira priority gives a ticket without priority.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The secret stays out of the history tables.
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            parse_priority_map(self.priority_map)
        except ValidationError as exc:
            errors["priority_map"] = exc.messages
        run_as = self.run_as if self.run_as_id is not None else None
        if run_as is not None and not (run_as.is_staff and run_as.is_active):
            errors["run_as"] = ["Must be an active provider staff user."]
        if errors:
            raise ValidationError(errors)

    @property
    def waiting_status_names(self) -> frozenset[str]:
        return parse_status_list(self.waiting_statuses)

    @property
    def outage_severity_names(self) -> frozenset[str]:
        return parse_status_list(self.outage_severities)

    @property
    def priorities(self) -> dict[str, str]:
        try:
            return parse_priority_map(self.priority_map)
        except ValidationError:  # saved around clean(): map nothing rather than fail
            return {}

    @property
    def jira_webhook_path(self) -> str:
        """The secret URL path for Jira webhooks (prefix it with the tenant's host)."""
        return f"/api/v1/integrations/jira/{self.pk}/{self.secret}/"


class ServiceMapping(models.Model):
    """``value`` (compared exactly, case-sensitive) stands for ``service``."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="mappings")
    value = models.CharField(
        max_length=200,
        help_text="Alertmanager: a value of the service label. Jira: a component name or a "
        "project key (a component mapping wins over the project's).",
    )
    service = models.ForeignKey(
        "agreements.Service", on_delete=models.CASCADE, related_name="connector_mappings"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["connector", "value"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "value"], name="mapping_value_once"),
        ]

    def __str__(self) -> str:
        return f"{self.value} → {self.service}"


class JiraIssue(models.Model):
    """What the webhooks told about one Jira issue; each event rebuilds the ticket from it.

    Facts are kept so that arrival order does not matter: status changes keyed by
    their event (a replay replaces itself), the earliest public comment, and the
    fields of the latest event by its own timestamp (an older event arriving late
    does not overwrite them). ``first_response_at``, ``resolved_at`` and ``pauses``
    are derived from the facts on every event.
    """

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="issues")
    key = models.CharField(max_length=64, help_text="The issue key, e.g. OPS-42.")
    external_id = models.CharField(
        max_length=128, unique=True, help_text="The ticket's external_id: jira-<key>."
    )
    ticket = models.ForeignKey(
        "measurements.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty until the issue's creation time and service are known.",
    )
    # Fields of the latest issue event (by its timestamp).
    snapshot_at = models.DateTimeField(null=True, blank=True)
    project_key = models.CharField(max_length=64, blank=True)
    components = models.JSONField(default=list, blank=True, help_text="Component names.")
    jira_priority = models.CharField(max_length=255, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="fields.created")
    # Facts, whatever order they came in.
    status_history = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"status", "from", "at", "event"}] in time order; "event" is the key a '
        "replay is recognised by (changelog id, else webhook timestamp).",
    )
    public_comment_at = models.DateTimeField(
        null=True, blank=True, help_text="The earliest public comment by the provider's side."
    )
    resolution_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the latest event that told the resolution."
    )
    resolution_date = models.DateTimeField(
        null=True, blank=True, help_text="fields.resolutiondate as of resolution_seen_at."
    )
    events = models.JSONField(default=list, blank=True, help_text="Keys of the events seen.")
    # Derived.
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True, help_text='[{"start", "end"}]')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "key"], name="jira_issue_once"),
        ]

    def __str__(self) -> str:
        return self.key
