"""factory_boy factories for the domain (call inside a tenant's schema_context)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from apps.agreements.models import Agreement, Service, Tier
from apps.calendars.models import Calendar
from apps.parties.models import Membership, Party, PartyKind
from apps.revisions.models import Metric, Objective, Revision


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    name = factory.Sequence(lambda n: f"Party {n}")
    kind = PartyKind.CUSTOMER


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    reference = factory.Sequence(lambda n: f"SLA-{n:04d}")
    title = factory.LazyAttribute(lambda o: f"Agreement {o.reference}")
    provider = factory.SubFactory(PartyFactory, kind=PartyKind.PROVIDER)
    customer = factory.SubFactory(PartyFactory)
    tier = Tier.SERVICE
    term_start = date(2026, 1, 1)
    monthly_fee = Decimal("1000.00")
    currency = "EUR"
    requires_acceptance = True


class RevisionFactory(factory.django.DjangoModelFactory):
    """A draft numbered after the agreement's last revision."""

    class Meta:
        model = Revision

    agreement = factory.SubFactory(AgreementFactory)
    number = factory.LazyAttribute(lambda o: o.agreement.revisions.count() + 1)
    effective_from = date(2026, 1, 1)


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/Berlin"


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    revision = factory.SubFactory(RevisionFactory)
    key = factory.Sequence(lambda n: f"objective_{n}")
    metric = Metric.AVAILABILITY
    target = Decimal("99.9")
