"""An agreement's objectives in force as OpenSLO v1 documents (the mapping: the package doc).

``agreement_openslo`` reads; it writes nothing. The documents are one ``Service``
per service the objectives are about (an objective for all of the agreement's
services gets a Service named after the agreement) and one ``SLO`` per objective
with its indicator inline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from django.utils.text import slugify

from apps.agreements.models import Agreement, Service
from apps.calendars.models import Calendar
from apps.revisions.models import PERCENT_METRICS, Aggregate, Comparison, CreditTier, Metric
from apps.revisions.openslo import API_VERSION, DURATIONS, PERCENTILES, PREFIX, SOURCE_TYPE
from apps.revisions.selectors import EffectiveObjective, credit_tiers_by_revision
from apps.revisions.selectors import effective_objectives as effective_objectives_on
from apps.revisions.units import unit_of
from apps.tenants.selectors import tenant_timezone

NAME_LENGTH = 63
DESCRIPTION_LENGTH = 1050
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TICKET_CLOCK = {
    Metric.RESPONSE_TIME: "first response",
    Metric.RESOLUTION_TIME: "resolution",
}


@dataclass
class Exported:
    """The documents, and the objectives left out with the reason."""

    agreement: Agreement
    on: date
    documents: list[dict[str, Any]] = field(default_factory=list)
    omitted: list[tuple[str, str]] = field(default_factory=list)

    def to_yaml(self) -> str:
        head = [
            f"# OpenSLO v1 export of agreement {self.agreement.reference} "
            f"({self.agreement.title}): objectives in force on {self.on.isoformat()}."
        ]
        head += [
            f"# Not expressible in OpenSLO v1, left out: {key} ({why})" for key, why in self.omitted
        ]
        if not any(document["kind"] == "SLO" for document in self.documents):
            head.append("# No objective to export.")
        body = yaml.safe_dump_all(
            self.documents, sort_keys=False, allow_unicode=True, width=100, explicit_start=True
        )
        return "\n".join(head) + "\n" + (body if self.documents else "")


def slug(text: str, fallback: str = "x") -> str:
    """An RFC 1123 label (OpenSLO's ``metadata.name``): lowercase letters, digits and ``-``."""
    label = slugify(text).replace("_", "-").strip("-")[:NAME_LENGTH].strip("-")
    return label or fallback


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = name[: NAME_LENGTH - len(suffix)].rstrip("-") + suffix
        number += 1
    taken.add(candidate)
    return candidate


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _hours(calendar: Calendar | None) -> str:
    """E.g. "Mon-Fri 08:00-18:00; Sat 09:00-13:00" (days with the same hours run together)."""
    if calendar is None:
        return "24x7"
    days: dict[int, list[str]] = {}
    for working in calendar.working_ranges.all().order_by("weekday", "start_minute"):
        start, end = divmod(working.start_minute, 60), divmod(working.end_minute, 60)
        days.setdefault(working.weekday, []).append(
            f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
        )
    runs: list[tuple[int, int, list[str]]] = []
    for weekday, spans in sorted(days.items()):
        if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], weekday, spans)
        else:
            runs.append((weekday, weekday, spans))
    text = [
        f"{WEEKDAYS[first]}{'-' + WEEKDAYS[last] if last > first else ''} {', '.join(spans)}"
        for first, last, spans in runs
    ]
    return "; ".join(text) or "24x7"


def _holidays(calendar: Calendar | None) -> str:
    if calendar is None:
        return "none"
    parts = []
    if calendar.holiday_country:
        region = "-".join(filter(None, [calendar.holiday_country, calendar.holiday_subdivision]))
        parts.append(f"public holidays {region}")
    own = calendar.holidays.count()
    if own:
        parts.append(f"{own} company date(s)")
    return ", ".join(parts) or "none"


def _tiers(objective_id: int, tiers: Sequence[CreditTier]) -> str:
    own = [tier for tier in tiers if tier.objective_id == objective_id]
    chosen = own or [tier for tier in tiers if tier.objective_id is None]
    return "; ".join(
        f"below {tier.below.normalize():f} -> {tier.percent.normalize():f} % of the fee"
        for tier in sorted(chosen, key=lambda tier: tier.below, reverse=True)
    )


def _source(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metricSource": {"type": SOURCE_TYPE, "spec": spec}}


def _scope(effective: EffectiveObjective) -> str:
    objective = effective.objective
    scope = f"of {objective.service.name}" if objective.service else "of every covered service"
    if objective.priority:
        scope += f", priority {objective.priority}"
    return scope


def _measure(effective: EffectiveObjective) -> tuple[dict, str, dict] | str:
    """(indicator spec, description, objective) in OpenSLO terms, or why it cannot be."""
    objective = effective.objective
    metric, target, lte = objective.metric, objective.target, objective.comparison == Comparison.LTE
    scope = _scope(effective)
    goal: dict[str, Any] = {}
    if metric in PERCENT_METRICS:
        if lte:
            return "an upper limit on a percentage has no OpenSLO target"
        if target >= 100:
            return "a target of 100 % cannot be written: OpenSLO targets lie below 1"
        goal = {"target": float(target / 100)}
    if metric == Metric.AVAILABILITY:
        window = "working seconds of the service window (business-hours calendar, holidays)"
        spec = {
            "ratioMetric": {
                "counter": False,
                "good": _source(
                    {"query": f"{window} not covered by downtime", "measurement": "outages"}
                ),
                "total": _source({"query": window, "measurement": "calendar"}),
            }
        }
        text = (
            f"Availability {scope}: (window - downtime) / window, where downtime is the union "
            "of unplanned outages caused by the provider and not excluded."
        )
        return spec, text, goal
    if metric in TICKET_CLOCK:
        step = TICKET_CLOCK[Metric(metric)]
        spec = {
            "thresholdMetric": _source(
                {
                    "query": f"SLA-clock seconds from opened_at to {step}, per ticket",
                    "measurement": "tickets",
                    "unit": "s",
                }
            )
        }
        limit = objective.threshold_seconds or 0
        text = (
            f"Tickets {scope} opened in the period whose SLA-clock time to {step} (business "
            f"hours, pauses excluded) is at most {limit} s; open tickets already past it count "
            "as missed."
        )
        return spec, text, {"op": "lte", "value": limit, **goal}
    if metric in (Metric.FIRST_CONTACT_RESOLUTION, Metric.CLOSURE_RATE):
        if metric == Metric.FIRST_CONTACT_RESOLUTION:
            good, total = "tickets resolved at first contact", "tickets resolved in the period"
        else:
            good, total = "tickets closed in the period", "tickets opened in the period"
        spec = {
            "ratioMetric": {
                "counter": False,
                "good": _source({"query": good, "measurement": "tickets"}),
                "total": _source({"query": total, "measurement": "tickets"}),
            }
        }
        return spec, f"{Metric(metric).label} {scope}: {good} / {total}.", goal
    return _percentile(effective, scope)


def _percentile(effective: EffectiveObjective, scope: str) -> tuple[dict, str, dict] | str:
    objective = effective.objective
    share = PERCENTILES.get(objective.aggregate or "")
    if share is None:
        aggregate = Aggregate(objective.aggregate).label if objective.aggregate else "?"
        return f"a {aggregate} over the period has no OpenSLO equivalent"
    lte = objective.comparison == Comparison.LTE
    if objective.metric == Metric.TURNAROUND_TIME:
        what = "turnaround seconds (received to completed, SLA clock) per work item"
    else:
        what = f"samples of {objective.sample_metric}"
    unit = unit_of(objective.metric, objective.sample_metric)
    spec = {"thresholdMetric": _source({"query": what, "measurement": "samples", "unit": unit})}
    value = _number(objective.target)
    sign, limit = ("<=" if lte else ">="), f"{value} {unit}".strip()
    text = (
        f"{objective.aggregate} of {what} {scope} {sign} {limit}: at least "
        f"{share if lte else 100 - share} % of them {sign} {limit}."
    )
    fraction = share / 100 if lte else (100 - share) / 100
    return spec, text, {"op": "lte" if lte else "gte", "value": value, "target": fraction}


def _annotations(effective: EffectiveObjective, tiers: Sequence[CreditTier]) -> dict[str, str]:
    objective, revision = effective.objective, effective.revision
    resolved = effective.calendar
    values = {
        "key": objective.key,
        "metric": objective.metric,
        "target": f"{objective.target.normalize():f}",
        "comparison": objective.comparison,
        "threshold-seconds": str(objective.threshold_seconds or ""),
        "aggregate": objective.aggregate or "",
        "sample-metric": objective.sample_metric or "",
        "period": objective.period,
        "service": objective.service.name if objective.service else "",
        "priority": objective.priority or "",
        "calendar": resolved.calendar.name if resolved.calendar else "",
        "calendar-from": resolved.source,
        "working-hours": _hours(resolved.calendar),
        "holidays": _holidays(resolved.calendar),
        "agreement": effective.agreement.reference,
        "revision": str(revision.number),
        "effective-from": revision.effective_from.isoformat(),
        "inherited": "true" if effective.inherited else "false",
        "credit-tiers": _tiers(objective.pk, tiers),
        "credit-cap-percent": f"{revision.credit_cap_percent.normalize():f}",
    }
    kept = {"service"}  # empty: every service the agreement covers
    return {f"{PREFIX}{name}": value for name, value in values.items() if value or name in kept}


def _service_document(name: str, title: str, description: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Service",
        "metadata": {"name": name, "displayName": title[:200]},
        "spec": {"description": description[:DESCRIPTION_LENGTH]},
    }


def _services(
    agreement: Agreement, effective: Iterable[EffectiveObjective], taken: set[str]
) -> tuple[dict[int | None, str], list[dict[str, Any]]]:
    """OpenSLO service names by our service id (None: all services), and their documents."""
    names: dict[int | None, str] = {}
    documents = []
    wanted: dict[int | None, Service | None] = {}
    for item in effective:
        wanted.setdefault(item.objective.service_id, item.objective.service)
    for service_id, service in sorted(wanted.items(), key=lambda pair: pair[0] or 0):
        if service is None:
            covered = ", ".join(agreement.services.order_by("name").values_list("name", flat=True))
            name = _unique(slug(agreement.reference, "agreement"), taken)
            title = f"{agreement.reference}: all services"
            text = f"Every service covered by agreement {agreement.reference}: {covered or '-'}."
        else:
            name = _unique(slug(service.name, "service"), taken)
            title, text = service.name, service.description or service.name
        names[service_id] = name
        documents.append(_service_document(name, title, text))
    return names, documents


def agreement_openslo(*, agreement: Agreement, on: date) -> Exported:
    """The OpenSLO documents of the objectives in force for ``agreement`` on ``on``."""
    exported = Exported(agreement, on)
    effective = effective_objectives_on(agreement, on)
    tiers = credit_tiers_by_revision({item.revision.pk for item in effective})
    measured = []
    for item in effective:
        found = _measure(item)
        if isinstance(found, str):
            exported.omitted.append((item.key, found))
        else:
            measured.append((item, found))
    taken: set[str] = set()
    services, documents = _services(agreement, [item for item, _ in measured], taken)
    exported.documents.extend(documents)
    default_zone = tenant_timezone()
    for item, (indicator, description, goal) in measured:
        objective = item.objective
        name = _unique(slug(f"{agreement.reference}-{objective.key}", "slo"), taken)
        title = objective.name or objective.describe()
        calendar = item.calendar.calendar
        exported.documents.append(
            {
                "apiVersion": API_VERSION,
                "kind": "SLO",
                "metadata": {
                    "name": name,
                    "displayName": title[:200],
                    "labels": {"agreement": slug(agreement.reference), "metric": objective.metric},
                    "annotations": _annotations(item, tiers.get(item.revision.pk, [])),
                },
                "spec": {
                    "description": description[:DESCRIPTION_LENGTH],
                    "service": services[objective.service_id],
                    "indicator": {
                        "metadata": {"name": _unique(f"{name[:59]}-sli", taken)},
                        "spec": indicator,
                    },
                    "timeWindow": [
                        {
                            "duration": DURATIONS[objective.period],
                            "calendar": {
                                "startTime": f"{item.revision.effective_from.isoformat()} 00:00:00",
                                "timeZone": calendar.timezone if calendar else default_zone,
                            },
                            "isRolling": False,
                        }
                    ],
                    "budgetingMethod": "Occurrences",
                    "objectives": [{"displayName": title[:200], **goal}],
                },
            }
        )
    return exported
