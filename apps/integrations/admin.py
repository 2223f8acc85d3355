"""Provider admin: connectors with their service mappings; Jira issues read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from apps.integrations.models import Connector, ConnectorKind, JiraIssue, ServiceMapping
from apps.integrations.services import connector_rotate_secret, connector_save


class ServiceMappingInline(admin.TabularInline):
    model = ServiceMapping
    extra = 1
    fields = ("value", "service")
    autocomplete_fields = ["service"]


@admin.register(Connector)
class ConnectorAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "active", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    inlines = [ServiceMappingInline]
    readonly_fields = ("endpoint",)
    actions = ["rotate_secret"]
    fieldsets = (
        (None, {"fields": ("kind", "name", "active", "endpoint")}),
        (
            "Prometheus Alertmanager",
            {
                "fields": (
                    "service_label",
                    "maintenance_label",
                    "cause_label",
                    "severity_label",
                    "outage_severities",
                    "customer_label",
                )
            },
        ),
        ("Jira", {"fields": ("initial_status", "waiting_statuses", "priority_map", "run_as")}),
    )

    @admin.display(description="Where to send events")
    def endpoint(self, obj: Connector) -> str:
        if obj.pk is None:
            return "Save the connector first."
        if obj.kind == ConnectorKind.ALERTMANAGER:
            return format_html(
                "POST /api/v1/integrations/alertmanager/?connector={} with "
                "<code>Authorization: Token …</code> (a provider staff user's API token).",
                obj.pk,
            )
        return format_html(
            "Jira webhook URL (keep it secret): <code>https://&lt;this host&gt;{}</code>; "
            "or POST /api/v1/integrations/jira/?connector={} with a token header.",
            obj.jira_webhook_path,
            obj.pk,
        )

    def save_model(self, request: HttpRequest, obj: Connector, form: Any, change: bool) -> None:
        connector_save(connector=obj, acting_user=request.user)

    @admin.action(description="Rotate the secret (the old Jira webhook URL stops working)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        for connector in queryset:
            connector_rotate_secret(connector=connector, acting_user=request.user)
        self.message_user(request, f"{queryset.count()} secret(s) rotated.", messages.SUCCESS)


READ_ONLY_ISSUE_FIELDS = (
    "connector",
    "key",
    "external_id",
    "ticket",
    "project_key",
    "components",
    "jira_priority",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "pauses",
    "status_history",
    "public_comment_at",
    "resolution_date",
    "resolution_seen_at",
    "snapshot_at",
    "events",
    "updated_at",
)


@admin.register(JiraIssue)
class JiraIssueAdmin(admin.ModelAdmin):
    list_display = ("key", "connector", "opened_at", "first_response_at", "resolved_at", "ticket")
    list_filter = ("connector",)
    search_fields = ("key",)
    fields = READ_ONLY_ISSUE_FIELDS
    readonly_fields = READ_ONLY_ISSUE_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
