"""Query filters of the measurement lists: by service, customer and time, with offsets."""

from __future__ import annotations

import django_filters

from apps.core.timestamps import AwareDateTimeFormField
from apps.measurements.models import Outage, Sample, Ticket


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 with an offset (``apps.core.timestamps``); bad values are a 400."""

    field_class = AwareDateTimeFormField


class TicketFilter(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="service")
    customer = django_filters.NumberFilter(field_name="customer")
    opened_after = AwareDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = AwareDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = ["external_id", "service", "customer", "priority", "excluded"]


class OutageFilter(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="service")
    customer = django_filters.NumberFilter(field_name="customer")
    start_after = AwareDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = AwareDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Outage
        fields = ["external_id", "service", "customer", "kind", "cause", "excluded"]


class SampleFilter(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="service")
    customer = django_filters.NumberFilter(field_name="customer")
    at_after = AwareDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = AwareDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = Sample
        fields = ["external_id", "service", "customer", "metric"]
