"""A notice's title and text, from its kind and its payload's facts, in the active language.

Detection stores them once in the site's default language (admin, e-mail,
webhook); the portal renders them again for its reader, from the same facts, so a
German reader sees German words and German number formats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.core.money import format_money_local, format_percent
from apps.revisions.units import format_value

OBJECTIVE_KINDS = ("objective_at_risk", "objective_missed")
CREDIT_KINDS = ("credit_calculated", "dispute_opened", "dispute_resolved")


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _objective_value(value: Any, objective: dict[str, Any]) -> str:
    return format_value(_decimal(value), objective["metric"], objective.get("sample_metric"))


def objective_target(objective: dict[str, Any]) -> str:
    sign = "≥" if objective.get("comparison", "gte") == "gte" else "≤"
    return f"{sign} {_objective_value(objective['target'], objective)}"


def _shortfall(margin: Any, objective: dict[str, Any]) -> str:
    value = _decimal(margin)
    return _objective_value(None if value is None else abs(value), objective)


def _day(text: str) -> str:
    return date_format(date.fromisoformat(text), "DATE_FORMAT") if text else "–"


def _objective_texts(kind: str, ref: str, period: str, data: dict[str, Any]) -> tuple[str, str]:
    objective = data["objective"]
    facts = {
        "ref": ref,
        "period": period,
        "objective": objective.get("name") or objective["key"],
        "attained": _objective_value(data.get("attained"), objective),
        "target": objective_target(objective),
        "short": _shortfall(data.get("margin"), objective),
    }
    if kind == "objective_at_risk":
        return (
            _("%(ref)s: %(objective)s at risk in %(period)s") % facts,
            _(
                "So far in %(period)s, %(objective)s stands at %(attained)s against a target "
                "of %(target)s, %(short)s short of it. The period is still open: the figure "
                "is provisional."
            )
            % facts,
        )
    return (
        _("%(ref)s: %(objective)s missed in %(period)s") % facts,
        _(
            "In %(period)s, %(objective)s reached %(attained)s against a target of "
            "%(target)s (%(short)s short)."
        )
        % facts,
    )


def _credit_texts(kind: str, ref: str, period: str, data: dict[str, Any]) -> tuple[str, str]:
    credit = data["credit"]
    amount = _decimal(credit["amount"]) or Decimal(0)
    facts = {
        "ref": ref,
        "period": period,
        "amount": format_money_local(amount, credit["currency"]),
        "percent": format_percent(_decimal(credit["percent"]) or Decimal(0)),
        "note": data.get("note") or "–",
    }
    if kind == "credit_calculated":
        return (
            _("%(ref)s: service credit of %(amount)s for %(period)s") % facts,
            _(
                "A service credit of %(amount)s (%(percent)s of the fee) was calculated "
                "for %(period)s."
            )
            % facts,
        )
    if kind == "dispute_opened":
        return (
            _("%(ref)s: the credit for %(period)s is disputed") % facts,
            _("The service credit of %(amount)s for %(period)s was disputed: %(note)s") % facts,
        )
    return (
        _("%(ref)s: the dispute of the credit for %(period)s is resolved") % facts,
        _(
            "The dispute of the service credit for %(period)s was resolved; the credit "
            "is %(amount)s. Resolution: %(note)s"
        )
        % facts,
    )


def notice_texts(kind: str, ref: str, period: str, data: dict[str, Any]) -> tuple[str, str]:
    """(title, text) of a notice, in the active language."""
    if kind in OBJECTIVE_KINDS:
        return _objective_texts(kind, ref, period, data)
    if kind in CREDIT_KINDS:
        return _credit_texts(kind, ref, period, data)
    if kind == "revision_awaiting_acceptance":
        revision = data["revision"]
        facts = {
            "ref": ref,
            "number": revision["number"],
            "date": _day(revision["effective_from"]),
            "summary": revision.get("summary") or "",
        }
        return (
            _("%(ref)s: revision %(number)s awaits acceptance") % facts,
            (
                _(
                    "Revision %(number)s, effective from %(date)s, was approved by the provider "
                    "and binds once a manager of the customer accepts it in the portal."
                )
                % facts
                + (f" {facts['summary']}" if facts["summary"] else "")
            ),
        )
    if kind == "review_due":
        facts = {
            "ref": ref,
            "date": _day(data["next_review_on"]),
            "months": data.get("review_every_months") or "–",
        }
        return (
            _("%(ref)s: review due since %(date)s") % facts,
            _("The agreement is due for its review (every %(months)s months) since %(date)s.")
            % facts,
        )
    return (_("Test event"), _("A test event from the SLA portal: the webhook works."))
