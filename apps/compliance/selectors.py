"""Reads of compliance results shared by the API, the portal and reports."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.agreements.selectors import agreement_list_visible
from apps.compliance.models import ComplianceResult
from apps.core.access import User


def result_list_visible(user: User) -> QuerySet[ComplianceResult]:
    """Results of the agreements the user may see."""
    return (
        ComplianceResult.objects.select_related("agreement", "objective", "revision")
        .filter(agreement__in=agreement_list_visible(user).values("pk"))
        .order_by("agreement__reference", "-period", "key")
    )
