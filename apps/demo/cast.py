"""The demo's cast: Northwind's parties, people, contacts, calendars and services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from apps.agreements.models import Service
from apps.agreements.services import service_save
from apps.calendars.models import Calendar
from apps.calendars.services import calendar_save
from apps.parties.models import Contact, ContactRole, Membership, Party, PartyKind
from apps.parties.services import (
    contact_save,
    membership_grant,
    party_save,
    provider_staff_group_ensure,
)

WEEKDAYS = range(5)


@dataclass(frozen=True)
class Cast:
    parties: dict[str, Party]
    calendars: dict[str, Calendar]
    services: dict[str, Service]


def _party(name: str, kind: str, actor: Any, parent: Party | None = None) -> Party:
    return Party.objects.filter(name=name).first() or party_save(
        acting_user=actor, name=name, kind=kind, parent=parent
    )


def _calendar(name: str, actor: Any, **data: Any) -> Calendar:
    return Calendar.objects.filter(name=name).first() or calendar_save(
        acting_user=actor, name=name, **data
    )


def _service(name: str, description: str, actor: Any) -> Service:
    return Service.objects.filter(name=name).first() or service_save(
        acting_user=actor, name=name, description=description
    )


def seed_cast(*, admin: Any, manager: Any, alice: Any, bob: Any, dora: Any, years: range) -> Cast:
    """Create what is missing (looked up by name first) and return it all; the Berlin
    calendar gets Northwind's company holidays in ``years``."""
    manager.groups.add(provider_staff_group_ensure())
    northwind = _party("Northwind Hosting", PartyKind.PROVIDER, admin)
    finance = _party("Finance", PartyKind.INTERNAL, admin, parent=northwind)
    globex = _party("Globex Corporation", PartyKind.CUSTOMER, admin)
    globex_de = _party("Globex Germany GmbH", PartyKind.CUSTOMER, admin, parent=globex)
    initech = _party("Initech", PartyKind.CUSTOMER, admin)
    for user, party, role in [
        (manager, northwind, "manager"),
        (alice, globex, "manager"),
        (bob, initech, "manager"),
        (dora, finance, "manager"),
    ]:
        if not Membership.objects.filter(user=user, party=party).exists():
            membership_grant(user=user, party=party, role=role, acting_user=admin)
    if not Contact.objects.filter(party=globex).exists():
        contact_save(
            acting_user=admin,
            party=globex,
            name="Alice Andersen",
            email="alice@globex.example",
            role=ContactRole.REPORT_RECIPIENT,
        )
        contact_save(
            acting_user=admin,
            party=globex,
            name="Gert Globex",
            email="escalation@globex.example",
            role=ContactRole.ESCALATION,
            escalation_level=1,
        )
        contact_save(
            acting_user=admin,
            party=initech,
            name="Bob Brown",
            email="bob@initech.example",
            role=ContactRole.REPORT_RECIPIENT,
        )

    berlin = _calendar(
        "Berlin office hours",
        admin,
        is_default=True,  # the tenant's default: objectives and agreements naming none
        timezone="Europe/Berlin",
        holiday_country="DE",
        holiday_subdivision="BE",
        working_hours=[(d, 8 * 60, 18 * 60) for d in WEEKDAYS],
        holidays=[
            holiday
            for year in years
            for holiday in [
                (date(year, 12, 24), "Christmas Eve (company holiday)"),
                (date(year, 12, 31), "New Year's Eve (company holiday)"),
            ]
        ],
    )
    new_york = _calendar(
        "New York business hours",
        admin,
        timezone="America/New_York",
        holiday_country="US",
        holiday_subdivision="NY",
        working_hours=[(d, 9 * 60, 17 * 60) for d in WEEKDAYS],
    )
    prime = _calendar(
        "Berlin prime time",
        admin,
        timezone="Europe/Berlin",
        working_hours=[(d, 7 * 60, 22 * 60) for d in range(6)],
    )
    always = _calendar("Around the clock", admin, timezone="UTC")

    k8s = _service("Managed Kubernetes", "Production Kubernetes clusters in Frankfurt.", admin)
    hosting = _service("Web Hosting", "Managed web servers and CDN.", admin)
    desk = _service("Service Desk", "24×7 ticket handling, P1 hotline.", admin)
    erp = _service("ERP Hosting", "The internal SAP landscape.", admin)

    return Cast(
        parties={
            "northwind": northwind,
            "finance": finance,
            "globex": globex,
            "globex_de": globex_de,
            "initech": initech,
        },
        calendars={"berlin": berlin, "new_york": new_york, "prime": prime, "always": always},
        services={"k8s": k8s, "hosting": hosting, "desk": desk, "erp": erp},
    )
