"""Which measurements count for whom: one rule for reads, evaluation and reports.

A measurement (ticket, outage, sample) is *in scope* when

- it names one of the scope's customers (the agreement's customer and its
  subsidiaries/departments) and its service is one the scope looks at — any
  service when the scope names none; or
- it names no customer (a shared incident) and its service is one of the
  scope's *shared* services.

For an objective of an agreement the services are the objective's own service,
else the agreement's services; shared incidents count only on those. An
agreement that names no services therefore sees its own customers'
measurements on any service and never a shared one: other parties' data cannot
reach it (docs/decisions/0005). A user's reads use the same rule with the union
of what their visible agreements cover.

The rule is written once here and offered in the three forms the callers need:
a Django ``Q`` (API and portal reads), a numpy mask (the evaluation's arrays) and
an SQL condition (aggregates computed in PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Q

from apps.agreements.models import Agreement
from apps.core.memo import memoized
from apps.parties.selectors import party_children_map, party_descendant_ids

NO_CUSTOMER = -1  # how the evaluation's arrays spell a missing customer
NO_SERVICE = -1  # ... and a missing service


@dataclass(frozen=True)
class MeasurementScope:
    customers: frozenset[int]
    services: frozenset[int] | None  # None: the customers' measurements on any service
    shared_services: frozenset[int]  # where measurements without a customer count

    @classmethod
    def of(cls, *, customers: Iterable[int], services: Iterable[int] | None) -> MeasurementScope:
        """The scope of an agreement (or objective) looking at ``services`` (None: all)."""
        named = None if services is None else frozenset(services)
        return cls(frozenset(customers), named, named or frozenset())

    def q(self, prefix: str = "") -> Q:
        """The rule as a filter on a Ticket/Outage/Sample queryset (or a relation to one)."""
        own = Q(**{f"{prefix}customer_id__in": sorted(self.customers)})
        if self.services is not None:
            own &= Q(**{f"{prefix}service_id__in": sorted(self.services)})
        shared = Q(**{f"{prefix}customer__isnull": True}) & Q(
            **{f"{prefix}service_id__in": sorted(self.shared_services)}
        )
        return own | shared

    def mask(self, customer: np.ndarray, service: np.ndarray) -> np.ndarray:
        """The rule over arrays of customer ids (NO_CUSTOMER for none) and service ids."""
        own = np.isin(customer, np.fromiter(self.customers, np.int64, len(self.customers)))
        if self.services is not None:
            own &= np.isin(service, np.fromiter(self.services, np.int64, len(self.services)))
        shared_ids = np.fromiter(self.shared_services, np.int64, len(self.shared_services))
        return own | ((customer == NO_CUSTOMER) & np.isin(service, shared_ids))

    def mask_one(self, customer: int | None, service: int | None) -> bool:
        """The rule for one measurement (ids or None)."""
        customers = np.array([NO_CUSTOMER if customer is None else customer], np.int64)
        services = np.array([NO_SERVICE if service is None else service], np.int64)
        return bool(self.mask(customers, services)[0])

    def sql(
        self, *, customer: str = "customer_id", service: str = "service_id"
    ) -> tuple[str, dict[str, Any]]:
        """The rule as an SQL condition with its (pyformat) parameters."""
        params: dict[str, Any] = {
            "scope_customers": sorted(self.customers),
            "scope_shared": sorted(self.shared_services),
        }
        own = f"{customer} = ANY(%(scope_customers)s::bigint[])"
        if self.services is not None:
            own += f" AND {service} = ANY(%(scope_services)s::bigint[])"
            params["scope_services"] = sorted(self.services)
        shared = f"{customer} IS NULL AND {service} = ANY(%(scope_shared)s::bigint[])"
        return f"(({own}) OR ({shared}))", params


@dataclass(frozen=True)
class AgreementReach:
    """An agreement's customers (its customer and everything below it) and its services."""

    customers: frozenset[int]
    services: frozenset[int]  # empty: the agreement names none

    def scope(self, service_id: int | None = None) -> MeasurementScope:
        """What an objective of the agreement looks at: its own service, else the agreement's."""
        if service_id is not None:
            return MeasurementScope.of(customers=self.customers, services=[service_id])
        return MeasurementScope.of(customers=self.customers, services=self.services or None)


def agreement_reach(agreements: Iterable[Agreement]) -> dict[int, AgreementReach]:
    """The reach of each agreement, in two queries whatever their number (once per
    read-only request for the same agreements: apps.core.memo)."""
    agreements = list(agreements)
    key = ("agreement reach", tuple(sorted(a.pk for a in agreements)))
    return dict(memoized(key, lambda: _reach(agreements)))


def _reach(agreements: list[Agreement]) -> dict[int, AgreementReach]:
    services: dict[int, set[int]] = {a.pk: set() for a in agreements}
    for agreement_id, service_id in Agreement.services.through.objects.filter(
        agreement__in=[a.pk for a in agreements]
    ).values_list("agreement_id", "service_id"):
        services[agreement_id].add(service_id)
    children = party_children_map()
    return {
        a.pk: AgreementReach(
            frozenset(party_descendant_ids([a.customer_id], children=children)),
            frozenset(services[a.pk]),
        )
        for a in agreements
    }
