"""OpenSLO v1 SLOs -> the terms of draft objectives (the mapping: the package doc).

``openslo_plan`` reads a YAML stream and works out, for every ``SLO`` document,
the objective it stands for; it writes nothing. Anything our objectives cannot
express is a problem naming the document, and one problem refuses the whole
file (``ImportRefused``): rolling windows, windows other than a calendar month
(``1M``) or quarter (``1Q``), time slices, several objectives in one SLO, an
indicator that fits no metric of ours. ``sla-portal/`` annotations (what
``export`` writes) give the exact key, metric, target, calendar, service and
priority back; without them the plain OpenSLO fields are read: a ratio indicator
is availability, the window's time zone a 24×7 calendar in that zone,
``spec.service`` one of our services by its name's slug.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from apps.agreements.models import Service
from apps.calendars.models import Calendar
from apps.core.validators import key_validator
from apps.revisions.models import Comparison, Metric, Objective, PeriodKind, Revision
from apps.revisions.openslo import API_VERSION, PERCENTILES, PREFIX
from apps.revisions.openslo.export import slug

RATIO_METRICS = {Metric.AVAILABILITY, Metric.FIRST_CONTACT_RESOLUTION, Metric.CLOSURE_RATE}
TICKET_METRICS = {Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME}
PERIODS = {"1M": PeriodKind.MONTH, "1Q": PeriodKind.QUARTER}
IGNORED_KINDS = ("DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
MAX_BYTES = 2 * 1024 * 1024
INHERITED = ("agreement", "default", "none")  # calendar-from values: the objective names none


class ImportRefused(Exception):
    """The file was refused; ``problems`` says why, document by document."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Plan:
    """The objectives to create (their terms, for ``objective_save``), and what was ignored."""

    objectives: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (where, terms)
    ignored: list[str] = field(default_factory=list)


class _Problem(Exception):
    pass


def _documents(text: str) -> list[tuple[int, Any]]:
    if len(text.encode()) > MAX_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_BYTES // 1024 // 1024} MB."])
    try:
        loaded = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ImportRefused([f"Not valid YAML: {exc}"]) from exc
    return [(number, document) for number, document in enumerate(loaded, 1) if document is not None]


def _annotation(document: Mapping, name: str) -> str | None:
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(PREFIX + name) if isinstance(annotations, Mapping) else None
    return None if value is None else str(value)


def _one(value: Any, what: str) -> Mapping:
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], Mapping):
        raise _Problem(f"{what} must be a list of exactly one item.")
    return value[0]


def _period(spec: Mapping) -> tuple[str, str]:
    """(period, time zone) of the SLO's time window."""
    if "timeWindow" not in spec:
        raise _Problem("No timeWindow: our objectives are judged per calendar month or quarter.")
    window = _one(spec["timeWindow"], "timeWindow")
    calendar = window.get("calendar")
    if window.get("isRolling") is True or not isinstance(calendar, Mapping):
        raise _Problem(
            "A rolling time window cannot be expressed: our objectives are judged per "
            "calendar month (1M) or quarter (1Q), with timeWindow[0].calendar."
        )
    duration = window.get("duration")
    if duration not in PERIODS:
        raise _Problem(f"Time window {duration!r}: only 1M (month) and 1Q (quarter) are possible.")
    start = calendar.get("startTime")
    moment = start if isinstance(start, datetime) else None
    if isinstance(start, str):
        try:
            moment = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            moment = None
    if moment is None:
        raise _Problem("calendar.startTime must read YYYY-MM-DD HH:MM:SS.")
    months = (1, 4, 7, 10) if duration == "1Q" else range(1, 13)
    if moment.time() != datetime.min.time() or moment.day != 1 or moment.month not in months:
        raise _Problem(
            f"calendar.startTime {start}: our periods begin at midnight on the first day of "
            f"a {'quarter' if duration == '1Q' else 'month'}."
        )
    zone = calendar.get("timeZone")
    if not isinstance(zone, str) or zone not in zoneinfo.available_timezones():
        raise _Problem(f"calendar.timeZone {zone!r} is not an IANA time zone.")
    return PERIODS[duration], zone


def _indicator(spec: Mapping, indicators: Mapping[str, Mapping]) -> str:
    """'ratio' or 'threshold'."""
    found = spec.get("indicator")
    if found is None and "indicatorRef" in spec:
        found = indicators.get(str(spec["indicatorRef"]))
        if found is None:
            raise _Problem(f"indicatorRef {spec['indicatorRef']!r}: no SLI of that name here.")
    body = found.get("spec") if isinstance(found, Mapping) else None
    if isinstance(body, Mapping) and "ratioMetric" in body:
        return "ratio"
    if isinstance(body, Mapping) and "thresholdMetric" in body:
        return "threshold"
    raise _Problem("The indicator has neither a ratioMetric nor a thresholdMetric.")


def _fraction(goal: Mapping) -> Decimal:
    """The objective's target as a fraction in [0, 1)."""
    given = [name for name in ("target", "targetPercent") if name in goal]
    if len(given) != 1:
        raise _Problem("Give exactly one of target and targetPercent.")
    try:
        value = Decimal(str(goal[given[0]]))
    except InvalidOperation as exc:
        raise _Problem(f"{given[0]} is not a number.") from exc
    fraction = value / 100 if given[0] == "targetPercent" else value
    if not (0 <= fraction < 1) or not fraction.is_finite():
        raise _Problem(f"{given[0]} must lie in [0, 1) (targetPercent in [0, 100)).")
    return fraction


def _percent(fraction: Decimal, document: Mapping) -> Decimal:
    exact = _annotation(document, "target")
    if exact is not None:
        try:
            if abs(Decimal(exact) / 100 - fraction) < Decimal("1e-9"):
                return Decimal(exact)
        except InvalidOperation:
            pass
    percent = fraction * 100
    if percent != percent.quantize(Decimal("0.0001")):
        raise _Problem(f"target {fraction}: at most four decimals as a percentage.")
    return percent.quantize(Decimal("0.0001"))


def _measure(metric: str, kind: str, goal: Mapping, document: Mapping) -> dict[str, Any]:
    """metric, target, comparison, threshold_seconds, aggregate, sample_metric."""
    wanted = "ratio" if metric in RATIO_METRICS else "threshold"
    if kind != wanted:
        raise _Problem(f"A {metric} objective needs a {wanted} indicator, not a {kind} one.")
    fraction = _fraction(goal)
    terms: dict[str, Any] = {"metric": metric, "comparison": Comparison.GTE}
    if metric in RATIO_METRICS:
        return terms | {"target": _percent(fraction, document)}
    op, value = goal.get("op"), goal.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem("A threshold objective needs op and a numeric value.")
    if metric in TICKET_METRICS:
        if op != "lte" or value != int(value) or not 1 <= value <= 2**31 - 1:
            raise _Problem(
                "A response or resolution objective reads 'op: lte' and a whole number of "
                "seconds as value (tickets within the clock limit)."
            )
        return terms | {"target": _percent(fraction, document), "threshold_seconds": int(value)}
    if op not in ("lte", "gte"):
        raise _Problem("A percentile objective reads op: lte or gte.")
    share = fraction * 100 if op == "lte" else 100 - fraction * 100
    aggregate = next((name for name, nn in PERCENTILES.items() if nn == share), None)
    if aggregate is None:
        raise _Problem(
            f"target {fraction} with op {op}: only the percentiles "
            f"{', '.join(PERCENTILES)} can be expressed."
        )
    terms |= {"target": Decimal(str(value)), "aggregate": aggregate}
    terms["comparison"] = Comparison.LTE if op == "lte" else Comparison.GTE
    if metric == Metric.SAMPLE:
        sample = _annotation(document, "sample-metric")
        if not sample:
            raise _Problem("A sample objective needs the annotation sla-portal/sample-metric.")
        terms["sample_metric"] = sample
    return terms


def _metric(kind: str, document: Mapping) -> str:
    named = _annotation(document, "metric")
    if named is not None:
        if named not in Metric.values:
            raise _Problem(f"sla-portal/metric {named!r} is not one of {', '.join(Metric.values)}.")
        return named
    if kind == "ratio":
        return Metric.AVAILABILITY
    raise _Problem(
        "A threshold indicator needs the annotation sla-portal/metric (response_time, "
        "resolution_time, turnaround_time or sample) to say what it measures."
    )


def _service(spec: Mapping, document: Mapping, revision: Revision, titles: Mapping) -> int | None:
    named = _annotation(document, "service")
    if named is not None:
        if named == "":
            return None
        found = Service.objects.filter(name=named).values_list("pk", flat=True).first()
        if found is None:
            raise _Problem(f"No service named {named!r}.")
        return found
    wanted = str(spec.get("service") or "")
    if wanted == slug(revision.agreement.reference):
        return None
    by_title = Service.objects.filter(name=titles.get(wanted, "")).values_list("pk", flat=True)
    matches = list(by_title) or [s.pk for s in Service.objects.all() if slug(s.name) == wanted]
    if len(matches) != 1:
        raise _Problem(
            f"spec.service {wanted!r} names none of our services (or several); name one "
            "with the annotation sla-portal/service."
        )
    return matches[0]


def _calendar(document: Mapping, zone: str) -> int | None:
    source, name = _annotation(document, "calendar-from"), _annotation(document, "calendar")
    if source in INHERITED:
        return None
    if name:
        calendar = Calendar.objects.filter(name=name).first()
        if calendar is None or calendar.timezone != zone:
            raise _Problem(f"No calendar named {name!r} in time zone {zone}.")
        return calendar.pk
    around_the_clock = [
        c for c in Calendar.objects.filter(timezone=zone).order_by("name") if c.is_24x7
    ]
    if not around_the_clock:
        raise _Problem(
            f"No 24×7 calendar in time zone {zone}: create one (admin → Calendars) or name "
            "a calendar with the annotation sla-portal/calendar."
        )
    return around_the_clock[0].pk


def _terms(document: Mapping, revision: Revision, context: Mapping[str, Mapping]) -> dict:
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        raise _Problem("spec must be an object.")
    period, zone = _period(spec)
    if spec.get("budgetingMethod") != "Occurrences":
        raise _Problem(
            f"budgetingMethod {spec.get('budgetingMethod')!r}: only Occurrences can be "
            "expressed (our objectives count seconds or tickets over the whole period, not "
            "time slices)."
        )
    goal = _one(spec.get("objectives"), "objectives (one objective per SLO; composite SLOs)")
    kind = _indicator(spec, context["indicators"])
    metadata = document.get("metadata") or {}
    key = _annotation(document, "key") or str(metadata.get("name", "")).replace("-", "_")
    try:
        key_validator(key)
    except ValidationError as exc:
        raise _Problem(f"Objective key {key!r}: {' '.join(exc.messages)}") from exc
    priority = _annotation(document, "priority")
    return {
        "key": key,
        "name": str(metadata.get("displayName") or "")[:200],
        **_measure(_metric(kind, document), kind, goal, document),
        "period": period,
        "calendar_id": _calendar(document, zone),
        "service_id": _service(spec, document, revision, context["titles"]),
        "priority": priority or None,
    }


def openslo_plan(*, text: str, revision: Revision) -> Plan:
    """The objectives a YAML stream of OpenSLO v1 documents stands for; ImportRefused else."""
    documents = _documents(text)
    problems: list[str] = []
    plan = Plan()
    indicators: dict[str, Mapping] = {}
    titles: dict[str, str] = {}
    slos = []
    for number, document in documents:
        where = f"document {number}"
        if not isinstance(document, Mapping) or document.get("apiVersion") != API_VERSION:
            problems.append(f"{where}: not an OpenSLO {API_VERSION} object.")
            continue
        kind, metadata = document.get("kind"), document.get("metadata") or {}
        name = str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""
        if kind == "SLI":
            indicators[name] = document
        elif kind == "Service":
            titles[name] = str(metadata.get("displayName") or "")
        elif kind == "SLO":
            slos.append((f"{where} (SLO {name})", document))
        elif kind in IGNORED_KINDS:
            plan.ignored.append(f"{where} ({kind} {name})")
        else:
            problems.append(f"{where}: unknown kind {kind!r}.")
    if not slos and not problems:
        problems.append("The file has no SLO document.")
    context: dict[str, Mapping] = {"indicators": indicators, "titles": titles}
    keys: dict[str, str] = {}
    taken = set(Objective.objects.filter(revision=revision).values_list("key", flat=True))
    for where, document in slos:
        try:
            terms = _terms(document, revision, context)
        except _Problem as problem:
            problems.append(f"{where}: {problem}")
            continue
        if terms["key"] in keys or terms["key"] in taken:
            other = keys.get(terms["key"], f"revision {revision.number}")
            problems.append(f"{where}: objective key {terms['key']!r} is already used by {other}.")
            continue
        keys[terms["key"]] = where
        plan.objectives.append((where, terms))
    if problems:
        raise ImportRefused(problems)
    return plan
