"""Reads of notices for the portal: the user's parties' notices, in the reader's language.

The portal includes ``notifications/_notices.html`` with ``notices`` set to
``notices_for(request.user, portal_agreements(request), limit)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.agreements.models import Agreement
from apps.core.access import User
from apps.notifications.models import Notice, NoticeKind
from apps.notifications.texts import notice_texts
from apps.parties.selectors import party_ids_visible_to

# The portal's badge classes (static/css/portal.css) per kind.
TONES = {
    NoticeKind.OBJECTIVE_AT_RISK: "at_risk",
    NoticeKind.OBJECTIVE_MISSED: "missed",
    NoticeKind.CREDIT_CALCULATED: "calculated",
    NoticeKind.REVISION_AWAITING_ACCEPTANCE: "approved",
    NoticeKind.REVIEW_DUE: "at_risk",
    NoticeKind.DISPUTE_OPENED: "disputed",
    NoticeKind.DISPUTE_RESOLVED: "resolved",
}


@dataclass(frozen=True)
class NoticeItem:
    """A notice as the portal shows it: title and text in the active language."""

    notice: Notice
    title: str
    text: str

    @property
    def kind(self) -> str:
        return self.notice.kind

    @property
    def kind_label(self) -> str:
        return str(self.notice.get_kind_display())

    @property
    def tone(self) -> str:
        return TONES.get(NoticeKind(self.notice.kind), "pending")

    @property
    def created_at(self) -> datetime:
        return self.notice.created_at

    @property
    def path(self) -> str:
        return self.notice.path

    @property
    def agreement(self) -> Agreement:
        return self.notice.agreement


def notice_item(notice: Notice) -> NoticeItem:
    """Title and text rendered again from the notice's facts (the active language)."""
    payload = notice.payload or {}
    reference = (payload.get("agreement") or {}).get("reference") or notice.agreement.reference
    try:
        title, text = notice_texts(notice.kind, reference, notice.period, payload.get("data", {}))
    except (KeyError, TypeError, ValueError, ArithmeticError):  # an older payload: stored text
        title, text = notice.title, notice.body
    return NoticeItem(notice, title, text)


def notices_for(
    user: User,
    agreements: QuerySet[Agreement] | Iterable[Agreement],
    limit: int = 10,
) -> list[NoticeItem]:
    """The latest notices of ``agreements`` (already scoped by the caller) that concern the
    user's parties (or any party, for provider staff), newest first."""
    scope: QuerySet[Any, Any] | list[int] = (
        agreements.values("pk")
        if isinstance(agreements, QuerySet)
        else [agreement.pk for agreement in agreements]
    )
    notices = Notice.objects.filter(agreement__in=scope).select_related("agreement")
    visible = party_ids_visible_to(user)
    if visible is not None:
        notices = notices.filter(party_id__in=visible)
    return [notice_item(notice) for notice in notices.order_by("-created_at", "-pk")[:limit]]
