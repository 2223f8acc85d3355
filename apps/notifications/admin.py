"""Provider admin: webhook endpoints (secret, test event), notices and the delivery log.

Notices and deliveries are read-only: they come from detection and dispatch. The
actions queue work for the workers after the request's transaction commits; no
admin request talks to a receiver itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from apps.notifications.models import Delivery, Notice, WebhookEndpoint
from apps.notifications.services import (
    deliveries_retry_now,
    endpoint_rotate_secret,
    endpoint_save,
    endpoint_test_event,
)
from apps.notifications.tasks import dispatch


def _dispatch_after_commit() -> None:
    transaction.on_commit(lambda: dispatch.delay())


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


DELIVERY_FIELDS = (
    "channel",
    "target",
    "status",
    "attempts",
    "next_attempt_at",
    "response_status",
    "sent_at",
    "last_error",
)


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    ordering = ("channel", "target")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SimpleHistoryAdmin):
    list_display = ("party", "url", "active", "description", "created_at")
    list_filter = ("active",)
    search_fields = ("party__name", "url", "description")
    autocomplete_fields = ["party"]
    fields = ("party", "url", "active", "description", "secret")
    readonly_fields = ("secret",)
    actions = ["send_test_event", "rotate_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        endpoint_save(endpoint=obj, acting_user=request.user)

    @admin.action(
        description="Send a test event (signed, to each selected endpoint)",
        permissions=["change"],
    )
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        now = timezone.now()
        for endpoint in queryset:
            endpoint_test_event(endpoint=endpoint, now=now)
        _dispatch_after_commit()
        self.message_user(
            request,
            f"{queryset.count()} test event(s) queued; see the delivery log for the answers.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Generate a new secret (the receivers need the new one)",
        permissions=["change"],
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            endpoint_rotate_secret(endpoint=endpoint, acting_user=request.user)
        self.message_user(request, "New secrets generated.", messages.WARNING)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "agreement", "party", "period", "title")
    list_filter = ("kind", "created_at")
    search_fields = ("title", "agreement__reference", "party__name", "subject")
    list_select_related = ("agreement", "party")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "party",
        "agreement",
        "subject",
        "period",
        "state",
        "object_type",
        "object_id",
        "title",
        "body",
        "path",
        "payload",
        "created_at",
        "planned_at",
    )
    readonly_fields = fields
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "channel",
        "target",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "channel", "event")
    search_fields = ("target", "last_error", "notice__title", "notice__agreement__reference")
    list_select_related = ("notice",)
    date_hierarchy = "created_at"
    fields = ("notice", "event", "endpoint", "contact", "created_at", *DELIVERY_FIELDS)
    readonly_fields = fields
    actions = ["retry_now"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("notifications.change_delivery"))

    @admin.action(
        description="Retry now (failed, given up or pending deliveries)", permissions=["retry"]
    )
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_retry_now(queryset, now=timezone.now())
        _dispatch_after_commit()
        self.message_user(request, f"{count} delivery(ies) queued to send now.", messages.SUCCESS)
