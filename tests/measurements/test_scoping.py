"""One scoping rule for reads, evaluation and reports (apps.measurements.scoping)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.measurements.models import Ticket
from apps.measurements.scoping import NO_CUSTOMER, MeasurementScope
from tests.conftest import TENANT_A
from tests.support.engine import utc

ids = st.frozensets(st.integers(min_value=1, max_value=6), max_size=4)


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    customers=ids,
    services=st.one_of(st.none(), ids),
    rows=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(1, 6)), st.one_of(st.none(), st.integers(1, 6))),
        max_size=12,
    ),
)
def test_mask_and_sql_agree_with_the_rule(customers, services, rows):
    scope = MeasurementScope.of(customers=customers, services=services)
    expected = [
        (c is not None and c in customers and (services is None or s in services))
        or (c is None and s is not None and s in (services or ()))
        for c, s in rows
    ]
    customer = np.array([NO_CUSTOMER if c is None else c for c, _ in rows], np.int64)
    service = np.array([-1 if s is None else s for _, s in rows], np.int64)
    assert scope.mask(customer, service).tolist() == expected
    assert [scope.mask_one(c, s) for c, s in rows] == expected
    if rows:
        where, params = scope.sql()
        values = ", ".join(f"({c or 'NULL'}::bigint, {s or 'NULL'}::bigint)" for c, s in rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {where} FROM (VALUES {values}) AS m(customer_id, service_id)", params
            )
            assert [bool(r[0]) for r in cursor.fetchall()] == expected


@pytest.mark.django_db
def test_the_q_form_selects_the_same_tickets(engine):
    with schema_context(TENANT_A.schema):
        w = engine.world
        rows = [
            engine.ticket("own", utc(2026, 4, 1, 9), customer="x"),
            engine.ticket(
                "own-other-service", utc(2026, 4, 1, 9), customer="x", service=engine.other_service
            ),
            engine.ticket("shared", utc(2026, 4, 1, 9), customer=None),
            engine.ticket(
                "shared-other-service",
                utc(2026, 4, 1, 9),
                customer=None,
                service=engine.other_service,
            ),
            engine.ticket("theirs", utc(2026, 4, 1, 9), customer="y"),
        ]
        for services in (None, {engine.service.pk}):
            scope = MeasurementScope.of(customers={w.party_x.pk}, services=services)
            found = set(Ticket.objects.filter(scope.q()).values_list("external_id", flat=True))
            expected = {t.external_id for t in rows if scope.mask_one(t.customer_id, t.service_id)}
            assert found == expected
        assert found == {"own", "shared"}


@pytest.mark.django_db
def test_an_agreement_without_services_never_sees_other_parties_shared_tickets(engine, manager_api):
    """The leak the isolation probes found: an agreement naming no services took in every
    shared ticket of every service, and its at-risk report listed other parties' tickets."""
    from apps.revisions.models import Metric

    with schema_context(TENANT_A.schema):
        engine.agreement.services.clear()
        engine.objective(
            "response", Metric.RESPONSE_TIME, "90", threshold_seconds=3600, calendar=engine.always
        )
        engine.bind()
        now = utc(2026, 4, 15, 12)
        engine.ticket("mine", now - timedelta(minutes=50), customer="x")
        engine.ticket("shared-elsewhere", now - timedelta(minutes=50), customer=None)
        engine.ticket("y-only", now - timedelta(minutes=50), customer="y")
        pk = engine.agreement.pk
    with time_machine.travel(now, tick=False):
        risk = manager_api.get(f"/api/v1/agreements/{pk}/at-risk/").json()
    assert [t["ticket"] for t in risk["tickets"]] == ["mine"]
