"""POST /api/v1/revisions/{id}/what-if/ {"from": "2026-01", "to": "2026-10"}.

Routed by ``apps.credits.api.register`` under the revisions prefix, so the revisions
app never imports credits. The rules (who may try what, the range, the figures) are in
``apps.credits.whatif``; this is the thin layer around them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import InputSerializer
from apps.core.money import money_text
from apps.credits.fields import MoneyField
from apps.credits.whatif import (
    MAX_MONTHS,
    revision_list_what_if,
    revision_what_if,
    what_if_range,
)
from apps.revisions.models import Comparison, Revision


def _currency(item: Any) -> str:
    return str(item.currency)


class WhatIfRequest(InputSerializer):
    # "from" is a Python keyword: the two fields are declared here instead of as attributes.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(
            max_length=16, help_text="First month, YYYY-MM (a quarter YYYY-Qn: its first month)."
        )
        fields["to"] = serializers.CharField(
            max_length=16,
            help_text=f"Last month, YYYY-MM (a quarter: its last month); at most {MAX_MONTHS} "
            "months from the first.",
        )
        return fields


class JudgedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["met", "missed", "no_data", "pending"])
    attained = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    target = serializers.DecimalField(max_digits=14, decimal_places=4)
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    margin = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    data_points = serializers.IntegerField()
    percent = serializers.DecimalField(
        max_digits=8, decimal_places=2, help_text="Of the fee basis, before the period's cap."
    )
    amount = MoneyField(currency_of=_currency, help_text="The credit this objective earns.")
    currency = serializers.CharField()
    calendar = serializers.CharField(help_text="The calendar its clock ran in.")


class ObjectiveLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    metric = serializers.CharField()
    what_if = JudgedSerializer(
        allow_null=True, help_text="null: the revision has no objective of this key."
    )
    actual = JudgedSerializer(allow_null=True, help_text="null: never judged.")
    changed = serializers.BooleanField()


class CreditFiguresSerializer(serializers.Serializer):
    percent = serializers.DecimalField(max_digits=8, decimal_places=2)
    amount = MoneyField(currency_of=_currency)
    currency = serializers.CharField()
    status = serializers.CharField(help_text='The ledger\'s status ("" for a what-if).')


class PeriodLineSerializer(serializers.Serializer):
    period = serializers.CharField(source="label")
    objectives = ObjectiveLineSerializer(many=True)
    what_if = CreditFiguresSerializer(help_text="The period's credit, capped.")
    actual = CreditFiguresSerializer(allow_null=True, help_text="null: no credit in the ledger.")
    difference = serializers.SerializerMethodField(
        help_text="What-if minus actual (null when their currencies differ)."
    )
    changed = serializers.BooleanField()

    @extend_schema_field({"type": "string", "nullable": True, "example": "-125.00"})
    def get_difference(self, line: Any) -> str | None:
        difference = line.difference
        return None if difference is None else money_text(difference, line.what_if.currency)


class TotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    what_if = MoneyField(currency_of=_currency)
    actual = MoneyField(currency_of=_currency)
    difference = MoneyField(currency_of=_currency)


class EffectiveCalendarSerializer(serializers.Serializer):
    key = serializers.CharField()
    calendar = serializers.CharField(source="calendar.name")
    calendar_source = serializers.ChoiceField(
        source="calendar.source",
        choices=["objective", "agreement", "default", "none"],
        help_text="Where the calendar comes from: the objective, an agreement (its own or one "
        "above it), the tenant's default calendar, or none (24×7 in the tenant's timezone).",
    )
    calendar_label = serializers.CharField(
        source="calendar.label", help_text='E.g. "Berlin office — from the agreement".'
    )
    inherited = serializers.BooleanField(help_text="Inherited from an agreement above.")


class WhatIfResponse(serializers.Serializer):
    revision = serializers.IntegerField(source="revision.pk")
    agreement = serializers.IntegerField(source="agreement.pk")
    objectives = EffectiveCalendarSerializer(
        many=True, help_text="The objectives as if in force, and where their calendars come from."
    )
    periods = PeriodLineSerializer(many=True)
    totals = TotalSerializer(many=True, help_text="Per currency: what-if, actual, difference.")
    seconds = serializers.FloatField(help_text="Server time of the what-if.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # "from" and "to" as in the request (keywords in Python)
        fields["from"] = serializers.CharField(source="first.label", help_text="The first month.")
        fields["to"] = serializers.CharField(source="last.label", help_text="The last month.")
        return fields


class WhatIfViewSet(viewsets.GenericViewSet):
    """POST revisions/{id}/what-if/: what a revision would have meant for past periods."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = WhatIfResponse

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Revision.objects.none()
        return revision_list_what_if(self.request.user).select_related("agreement")

    @extend_schema(
        request=WhatIfRequest,
        responses=WhatIfResponse,
        examples=[
            OpenApiExample(
                "Last year", value={"from": "2026-01", "to": "2026-12"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="what-if")
    def what_if(self, request: Request, pk: str | None = None) -> Response:
        """Evaluate the revision (any status: a draft, one awaiting acceptance) as if it were
        in force for each month from ``from`` to ``to`` — and for the quarters wholly inside
        them — with the same engine as the real evaluation, beside what was actually judged
        and credited, and the totals' difference per currency. Nothing is stored.

        Provider staff may try any revision; a customer only an approved revision of their
        agreement that awaits their acceptance (any other, drafts included, is a 404).
        """
        revision = self.get_object()
        params = WhatIfRequest(data=request.data)
        params.is_valid(raise_exception=True)
        first, last = what_if_range(
            start=params.validated_data["from"], end=params.validated_data["to"]
        )
        report = revision_what_if(
            revision=revision, first=first, last=last, acting_user=request.user
        )
        return Response(WhatIfResponse(report).data)
