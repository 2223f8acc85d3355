"""Demo domain data for the 'demo' tenant: Northwind Hosting and its customers.

Idempotent: every object is looked up by its natural key first. Run through
``manage.py seed_demo`` (apps.demo.seed). Dates are relative to the day of seeding
(apps.demo.dates): the terms began 14 months ago, revision 2 of Globex Germany's SLA
took effect 6 months ago, revision 3 (awaiting alice's acceptance) and Initech's
draft take effect on 1 January of next year.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model

from apps.agreements.models import Agreement, Tier
from apps.agreements.services import agreement_save
from apps.demo.cast import seed_cast
from apps.demo.dates import DemoDates, demo_today, month_name
from apps.demo.texts import agreement_sections
from apps.revisions.models import Metric, Revision
from apps.revisions.services import (
    credit_tier_save,
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
    revision_new_draft,
    revision_update,
)

H = 3600
WEEKDAYS = range(5)


def _agreement(reference: str, actor: Any, **data: Any) -> Agreement:
    existing = Agreement.objects.filter(reference=reference).first()
    if existing:
        return existing
    return agreement_save(acting_user=actor, reference=reference, **data)


def _make_binding(revision: Revision, manager: Any, customer_manager: Any) -> None:
    revision_approve(revision=revision, acting_user=manager)
    if revision.agreement.requires_acceptance:
        revision_accept(revision=revision, acting_user=customer_manager)


def _first_revision(
    agreement: Agreement,
    manager: Any,
    customer_manager: Any,
    *,
    summary: str,
    sections: dict[str, str],
    objectives: list[dict[str, Any]],
    tiers: list[dict[str, Any]],
    dates: DemoDates,
    binding: bool = True,
) -> Revision:
    existing = agreement.revisions.order_by("number").first()
    if existing:
        return existing
    revision = revision_create(
        agreement=agreement,
        acting_user=manager,
        effective_from=dates.term_start,
        summary=summary,
        sections=sections,
        credit_cap_percent=Decimal("30"),
    )
    by_key = {}
    for spec in objectives:
        by_key[spec["key"]] = objective_save(acting_user=manager, revision=revision, **spec)
    for spec in tiers:
        objective = by_key.get(spec.pop("objective", None))
        credit_tier_save(acting_user=manager, revision=revision, objective=objective, **spec)
    if binding:
        _make_binding(revision, manager, customer_manager)
        # The demo agreements were signed before their term began, not today.
        agreement.signed_on = agreement.term_start - timedelta(days=12)
        agreement.next_review_on = agreement.default_next_review()
        while agreement.next_review_on < dates.today:
            agreement.next_review_on += relativedelta(months=agreement.review_every_months)
        agreement.save(update_fields=["signed_on", "next_review_on"])
    return revision


STANDARD_TIERS = [
    {"below": Decimal("99.9"), "percent": Decimal("5")},
    {"below": Decimal("99.5"), "percent": Decimal("10")},
    {"below": Decimal("99.0"), "percent": Decimal("25")},
]


def seed(*, tenant: Any, password: str, today: date | None = None) -> None:
    """Parties, calendars, agreements and revisions of a demo seeded on ``today`` (default:
    the tenant's today). ``password`` is unused (the seeders' signature)."""
    dates = DemoDates(today or demo_today())
    users = get_user_model().objects
    admin = users.get(username="admin")
    manager, alice, bob, dora = (users.get(username=n) for n in ("manager", "alice", "bob", "dora"))

    cast = seed_cast(
        admin=admin, manager=manager, alice=alice, bob=bob, dora=dora, years=dates.years
    )
    northwind, finance, globex, globex_de, initech = (
        cast.parties[n] for n in ("northwind", "finance", "globex", "globex_de", "initech")
    )
    berlin, new_york, prime, always = (
        cast.calendars[n] for n in ("berlin", "new_york", "prime", "always")
    )
    k8s, hosting, desk, erp = (cast.services[n] for n in ("k8s", "hosting", "desk", "erp"))

    corp = _agreement(
        "NW-GLOBEX-CORP",
        admin,
        title="Globex group — corporate SLA",
        provider=northwind,
        customer=globex,
        tier=Tier.CORPORATE,
        term_start=dates.term_start,
        monthly_fee=Decimal("0.00"),
        currency="EUR",
        services=[desk],
        review_every_months=24,
    )
    _first_revision(
        corp,
        manager,
        alice,
        dates=dates,
        summary="Group-wide service desk and availability levels.",
        sections=agreement_sections(
            "the Globex group", "the Northwind service desk for all Globex companies"
        ),
        objectives=[
            {
                "key": "desk_response",
                "name": "Service desk first response",
                "metric": Metric.RESPONSE_TIME,
                "target": Decimal("90"),
                "threshold_seconds": 1 * H,
                "calendar": berlin,
                "service": desk,
            },
            {
                "key": "availability",
                "name": "Monthly availability",
                "metric": Metric.AVAILABILITY,
                "target": Decimal("99.5"),
                "calendar": always,
            },
        ],
        tiers=[{"below": Decimal("99.5"), "percent": Decimal("5")}],
    )
    globex_de_sla = _agreement(
        "NW-GLOBEX-DE",
        admin,
        title="Globex Germany — customer SLA",
        provider=northwind,
        customer=globex_de,
        tier=Tier.CUSTOMER,
        parent=corp,
        term_start=dates.term_start,
        monthly_fee=Decimal("12000.00"),
        currency="EUR",
        services=[hosting, desk],
        review_every_months=12,
    )
    rev1 = _first_revision(
        globex_de_sla,
        manager,
        alice,
        dates=dates,
        summary="Initial customer SLA for Globex Germany.",
        sections=agreement_sections("Globex Germany GmbH", "web hosting and the service desk"),
        objectives=[
            {
                "key": "availability",
                "name": "Web hosting availability",
                "metric": Metric.AVAILABILITY,
                "target": Decimal("99.9"),
                "calendar": always,
                "service": hosting,
            },
            {
                "key": "p1_resolution",
                "name": "P1 resolution within 4 business hours",
                "metric": Metric.RESOLUTION_TIME,
                "target": Decimal("95"),
                "threshold_seconds": 4 * H,
                "calendar": berlin,
                "priority": "P1",
            },
            {
                "key": "closure_rate",
                "name": "Tickets closed in the month",
                "metric": Metric.CLOSURE_RATE,
                "target": Decimal("90"),
            },
        ],
        tiers=[{"objective": "availability", **t} for t in STANDARD_TIERS]
        + [{"below": Decimal("95"), "percent": Decimal("5")}],
    )
    if globex_de_sla.revisions.count() == 1:
        rev2 = revision_new_draft(
            revision=rev1, acting_user=manager, effective_from=dates.revision_2_from
        )
        sections = agreement_sections(
            "Globex Germany GmbH",
            "web hosting and the service desk",
            " Revision 2 raises the availability commitment after the move "
            "to the second data centre.",
        )
        revision_update(
            revision=rev2,
            acting_user=manager,
            sections=sections,
            summary="Availability 99.9 → 99.95 %; P1 resolution tightened.",
        )
        for objective in rev2.objectives.all():
            if objective.key == "availability":
                objective_save(objective=objective, acting_user=manager, target=Decimal("99.95"))
            if objective.key == "p1_resolution":
                objective_save(objective=objective, acting_user=manager, target=Decimal("97"))
        _make_binding(rev2, manager, alice)
        rev3 = revision_new_draft(
            revision=rev2, acting_user=manager, effective_from=dates.next_year
        )
        starts = month_name(rev3.effective_from)
        revision_update(
            revision=rev3,
            acting_user=manager,
            summary=f"From {starts}: first-contact resolution of at least 70 %.",
            sections=agreement_sections(
                "Globex Germany GmbH",
                "web hosting and the service desk",
                f" Revision 3 adds a first-contact resolution objective from {starts}.",
            ),
        )
        objective_save(
            acting_user=manager,
            revision=rev3,
            key="fcr",
            name="First-contact resolution",
            metric=Metric.FIRST_CONTACT_RESOLUTION,
            target=Decimal("70"),
        )
        # Approved by Northwind, waiting for Alice (Globex's manager) to accept it.
        revision_approve(revision=rev3, acting_user=manager)

    k8s_sla = _agreement(
        "NW-GLOBEX-DE-K8S",
        admin,
        title="Globex Germany — Managed Kubernetes",
        provider=northwind,
        customer=globex_de,
        tier=Tier.SERVICE,
        parent=globex_de_sla,
        term_start=dates.term_start,
        monthly_fee=Decimal("8000.00"),
        currency="EUR",
        services=[k8s],
        review_every_months=6,
    )
    _first_revision(
        k8s_sla,
        manager,
        alice,
        dates=dates,
        summary="Kubernetes platform levels.",
        sections=agreement_sections("Globex Germany GmbH", "the managed Kubernetes platform"),
        objectives=[
            {
                "key": "availability",
                "name": "Kubernetes API availability",
                "metric": Metric.AVAILABILITY,
                "target": Decimal("99.95"),
                "calendar": always,
                "service": k8s,
            },
            {
                "key": "api_latency_p95",
                "name": "API latency (p95)",
                "metric": Metric.SAMPLE,
                "target": Decimal("250"),
                "comparison": "lte",
                "aggregate": "p95",
                "sample_metric": "latency_ms",
                "service": k8s,
            },
        ],
        tiers=[{"objective": "availability", **t} for t in STANDARD_TIERS],
    )
    initech_sla = _agreement(
        "NW-INITECH",
        admin,
        title="Initech — customer SLA",
        provider=northwind,
        customer=initech,
        tier=Tier.CUSTOMER,
        term_start=dates.term_start,
        monthly_fee=Decimal("5000.00"),
        currency="USD",
        services=[hosting, desk],
        calendar=new_york,  # objectives without a calendar of their own run on New York hours
        review_every_months=12,
    )
    _first_revision(
        initech_sla,
        manager,
        bob,
        dates=dates,
        summary="Initial SLA for Initech (New York).",
        sections=agreement_sections("Initech", "web hosting and the service desk (New York hours)"),
        objectives=[
            {
                "key": "response",
                "name": "First response within 2 business hours",
                "metric": Metric.RESPONSE_TIME,
                "target": Decimal("90"),
                "threshold_seconds": 2 * H,
                "calendar": new_york,
            },
            {
                "key": "fcr",
                "name": "First-contact resolution",
                "metric": Metric.FIRST_CONTACT_RESOLUTION,
                "target": Decimal("70"),
            },
            {
                "key": "availability",
                "name": "Web hosting availability (prime time)",
                "metric": Metric.AVAILABILITY,
                "target": Decimal("99.9"),
                "calendar": prime,
                "service": hosting,
            },
        ],
        # Availability has its own schedule; any other missed objective earns 5 %.
        tiers=[{"objective": "availability", **t} for t in STANDARD_TIERS]
        + [{"below": Decimal("100"), "percent": Decimal("5")}],
    )
    if initech_sla.revisions.count() == 1:
        # A draft for next year that Northwind can try out (what-if) before approving it.
        draft = revision_new_draft(
            revision=initech_sla.revisions.get(number=1),
            acting_user=manager,
            effective_from=dates.next_year,
        )
        revision_update(
            revision=draft,
            acting_user=manager,
            summary="Draft: response in 90 min for 92 % of tickets; a miss earns 10 %.",
        )
        for objective in draft.objectives.filter(key="response"):
            objective_save(
                objective=objective,
                acting_user=manager,
                threshold_seconds=90 * 60,
                target=Decimal("92"),
                name="First response within 90 business minutes",
            )
            # Its own tier: 10 % instead of the revision-wide 5 % (what-if shows the cost).
            credit_tier_save(
                acting_user=manager,
                revision=draft,
                objective=objective,
                below=Decimal("92"),
                percent=Decimal("10"),
            )
    erp_sla = _agreement(
        "NW-FIN-ERP",
        admin,
        title="ERP hosting for Finance (internal)",
        provider=northwind,
        customer=finance,
        tier=Tier.SERVICE,
        term_start=dates.term_start,
        monthly_fee=Decimal("2000.00"),
        currency="EUR",
        services=[erp],
        requires_acceptance=False,
        review_every_months=12,
    )
    _first_revision(
        erp_sla,
        manager,
        dora,
        dates=dates,
        summary="Internal ERP hosting levels.",
        sections=agreement_sections("the Finance department", "the SAP ERP landscape"),
        objectives=[
            {
                "key": "availability",
                "name": "ERP availability in office hours",
                "metric": Metric.AVAILABILITY,
                "target": Decimal("99.5"),
                "calendar": berlin,
                "service": erp,
            },
            {
                "key": "po_turnaround",
                "name": "Purchase-order turnaround (p90)",
                "metric": Metric.TURNAROUND_TIME,
                "target": Decimal(str(16 * H)),
                "comparison": "lte",
                "aggregate": "p90",
                "calendar": berlin,
            },
        ],
        tiers=[],
    )
