"""Schemathesis against the whole API: every response conforms to the OpenAPI document.

The document is the one tenant A serves at /api/schema/ (signed in as its provider
manager). Each role gets its own throw-away tenant ``fuzz<6 letters>`` (committed, so
ingestion and every other write really happen; dropped afterwards), filled with a
provider, two customers, agreements at three tiers, revisions (binding, approved,
draft), objectives, credit tiers, calendars, tickets, outages, samples, compliance
results and credits, so that generated ids often name real objects. The requests go
in-process through the WSGI application (config.wsgi) with the tenant's Host header
and ``Authorization: Token <key>``, once as provider staff (the manager) and once as
a customer (a manager of customer X).

Per operation: the schema's examples, schemathesis' coverage phase (boundary and
wrong-type values) when ``FUZZ_COVERAGE`` is on, and at least ``FUZZ_EXAMPLES``
generated cases (positive and negative), deterministic (fixed seed, derandomized).
Checks: no 5xx, status code documented, content type documented, body and headers
conform to the document.

    FUZZ_EXAMPLES=100 FUZZ_COVERAGE=1 .venv/bin/python -m pytest -m fuzz   # make fuzz
"""

from __future__ import annotations

import logging
import os
import random
import re
import string
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.media_types import YAML_MEDIA_TYPES
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import CAST, PASSWORD, TENANT_A, TenantInfo, build_world

# django_db: pytest-django prepares the test database only for tests that ask for it. The
# test's own transaction stays empty: requests run on the server thread's connection.
pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_COVERAGE = os.environ.get("FUZZ_COVERAGE", "0") not in ("", "0", "false", "no")
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
# A safety net against a hang, far above the expected run time (docs/RELIABILITY.md).
FUZZ_MINUTES = float(os.environ.get("FUZZ_MINUTES", "20"))
# Operations to run (a regular expression on "METHOD /path"), for reproducing one.
FUZZ_ONLY = re.compile(os.environ.get("FUZZ_ONLY", ""))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@schemathesis.deserializer(*YAML_MEDIA_TYPES)  # every spelling: the first match wins
def _yaml_stream(ctx: schemathesis.DeserializationContext, response: Any) -> list[Any]:
    """The OpenSLO export is a YAML stream (several documents), documented as an array of
    them: read it as a client would, with yaml.safe_load_all."""
    return list(yaml.safe_load_all(response.content.decode(response.encoding or "utf-8")))


SLUG_PREFIX = "fuzz"
STALE_SLUG = rf"^{SLUG_PREFIX}[a-z]{{6}}$"


# --- the tenant ------------------------------------------------------------------


@dataclass
class FuzzTarget:
    """One role's tenant: its host, the token sent, ids of real objects per path."""

    role: str
    info: TenantInfo
    token: str
    ids: dict[str, list[int]]
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)


def _drop_tenant(slug: str) -> None:
    """Remove a tenant's schema and its Tenant/Domain rows (idempotent)."""
    from django.db import connection
    from django_tenants.utils import schema_exists

    from apps.tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    if schema_exists(slug):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{slug}" CASCADE')
    Domain.objects.filter(tenant__schema_name=slug).delete()
    # QuerySet.delete() skips TenantMixin.delete(), which would refuse or drop again.
    Tenant.objects.filter(schema_name=slug).delete()


def _ingest_measurements(world, service_ids: list[int]) -> dict[str, list[int]]:
    from apps.measurements.ingestion import outage_ingest, sample_ingest, ticket_ingest

    tickets = [
        {
            "external_id": f"T-{month}-{n}",
            "service": service_ids[n % len(service_ids)],
            "customer": world.party_x.pk if n % 2 else None,
            "priority": ("P1", "P2", "P3")[n % 3],
            "opened_at": f"2026-{month:02d}-{n + 2:02d}T09:00:00+02:00",
            "first_response_at": f"2026-{month:02d}-{n + 2:02d}T09:40:00+02:00",
            "resolved_at": None if n == 4 else f"2026-{month:02d}-{n + 2:02d}T17:00:00+02:00",
            "closed_at": None if n >= 3 else f"2026-{month:02d}-{n + 3:02d}T09:00:00+02:00",
            "contacts": 1 + n % 2,
            "pauses": [
                {
                    "start": f"2026-{month:02d}-{n + 2:02d}T10:00:00+02:00",
                    "end": f"2026-{month:02d}-{n + 2:02d}T11:00:00+02:00",
                    "reason": "waiting_customer",
                }
            ]
            if n % 2
            else [],
        }
        for month in (10, 11)
        for n in range(5)
    ]
    outages = [
        {
            "external_id": f"O-{month}-{n}",
            "service": service_ids[0],
            "start": f"2026-{month:02d}-{n + 3:02d}T01:00:00Z",
            "end": f"2026-{month:02d}-{n + 3:02d}T0{n + 2}:45:00Z",
            "kind": "planned" if n == 2 else "unplanned",
            "cause": "customer" if n == 1 else "provider",
        }
        for month in (10, 11)
        for n in range(3)
    ]
    samples = [
        {
            "external_id": f"S-{month}-{n}",
            "service": service_ids[0],
            "metric": "latency_ms",
            "at": f"2026-{month:02d}-{n + 1:02d}T12:00:00+00:00",
            "value": 100.0 + 17.5 * n,
        }
        for month in (10, 11)
        for n in range(6)
    ]
    return {
        "tickets": ticket_ingest(items=tickets, acting_user=world.manager).ids,
        "outages": outage_ingest(items=outages, acting_user=world.manager).ids,
        "samples": sample_ingest(items=samples, acting_user=world.manager).ids,
    }


def _populate(info: TenantInfo) -> dict[str, list[int]]:
    """World A's cast and domain in this tenant, plus every kind of object the API serves."""
    from apps.agreements.models import Tier
    from apps.calendars.periods import parse_period
    from apps.compliance.models import ComplianceResult
    from apps.credits.models import ServiceCredit
    from apps.credits.settlement import period_settle
    from apps.credits.transitions import credit_approve, credit_dispute
    from apps.revisions.models import CreditTier, Metric
    from apps.revisions.services import revision_approve, revision_create, revision_new_draft
    from tests.conftest import agreement_for
    from tests.factories import CalendarFactory, ObjectiveFactory, ServiceFactory

    users = get_user_model().objects
    for username, (is_staff, is_superuser) in CAST.items():
        users.create_user(
            username=f"{username}_{info.slug}",
            password=PASSWORD,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
    world = build_world(info)

    # Customer Y's side: its own service, calendar and an approved revision.
    service_y = ServiceFactory(name="Y-only service")
    world.agreement_y.services.set([service_y])
    calendar_y = CalendarFactory(name="Y calendar", timezone="America/New_York")
    revision_y = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    objective_y = ObjectiveFactory(revision=revision_y, key="y_availability", calendar=calendar_y)
    CreditTier.objects.create(
        revision=revision_y, objective=objective_y, below=Decimal("99"), percent=Decimal("5")
    )
    revision_approve(revision=revision_y, acting_user=world.manager)

    # X: a corporate -> customer -> service chain, more objectives, an approved
    # (not yet accepted) revision and a draft to move through their lifecycle.
    corporate = agreement_for(world, "X-CORP", Tier.CORPORATE)
    customer_level = agreement_for(world, "X-CUST", Tier.CUSTOMER, parent=corporate)
    world.agreement_x.parent = customer_level
    world.agreement_x.tier = Tier.SERVICE
    world.agreement_x.save()
    approved = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2027, 1, 1)
    )
    ObjectiveFactory(
        revision=approved,
        key="response_p1",
        metric=Metric.RESPONSE_TIME,
        target=Decimal("90"),
        threshold_seconds=3600,
        priority="P1",
        calendar=world.calendar,
    )
    ObjectiveFactory(
        revision=approved,
        key="latency_p95",
        metric=Metric.SAMPLE,
        target=Decimal("150"),
        comparison="lte",
        aggregate="p95",
        sample_metric="latency_ms",
    )
    revision_approve(revision=approved, acting_user=world.manager)
    draft = revision_new_draft(
        revision=approved, acting_user=world.manager, effective_from=date(2027, 4, 1)
    )

    ids = _ingest_measurements(world, [world.service.pk, service_y.pk])

    # Compliance results and credits: two finished months and the open one.
    agreements = [world.agreement_x, world.agreement_y, customer_level, corporate]
    for text in ("2026-10", "2026-11", "2026-12", "2026-Q4"):
        period_settle(agreements=agreements, period=parse_period(text), acting_user=world.manager)
    credits = list(ServiceCredit.objects.order_by("pk"))
    if len(credits) >= 2:
        credit_approve(credit=credits[0], acting_user=world.manager, note="")
        credit_dispute(credit=credits[1], acting_user=world.customer_x, note="Not our fault.")

    from apps.parties.models import Party
    from apps.revisions.models import Objective, Revision

    ids.update(
        {
            "parties": list(Party.objects.values_list("pk", flat=True)),
            "services": [world.service.pk, service_y.pk],
            "agreements": [a.pk for a in (*agreements,)],
            "calendars": [world.calendar.pk, calendar_y.pk],
            "revisions": list(Revision.objects.values_list("pk", flat=True)),
            "objectives": list(Objective.objects.values_list("pk", flat=True)),
            "credit-tiers": list(CreditTier.objects.values_list("pk", flat=True)),
            "compliance": list(ComplianceResult.objects.values_list("pk", flat=True)),
            "credits": list(ServiceCredit.objects.values_list("pk", flat=True)),
            "_draft": [draft.pk],
        }
    )
    return ids


@pytest.fixture(scope="module")
def _db_unblocked(django_db_setup, django_db_blocker):
    """The fuzz commits: no test transaction around it, only throw-away tenants."""
    with django_db_blocker.unblock():
        yield


def _new_tenant(role: str) -> TenantInfo:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    for stale in Tenant.objects.filter(schema_name__regex=STALE_SLUG).values_list(
        "schema_name", flat=True
    ):
        _drop_tenant(stale)
    slug = SLUG_PREFIX + "".join(random.choices(string.ascii_lowercase, k=6))
    tenant_create(slug=slug, name=f"Fuzz ({role})")
    return TenantInfo(slug, f"Fuzz ({role})", f"{slug}.{settings.BASE_DOMAIN}")


@pytest.fixture(scope="module", params=["customer", "staff"])
def fuzz_target(request, _db_unblocked) -> FuzzTarget:
    from rest_framework.authtoken.models import Token

    role = request.param
    info = _new_tenant(role)
    try:
        with schema_context(info.schema):
            ids = _populate(info)
            username = {"staff": "manager", "customer": "customer_x"}[role]
            user = get_user_model().objects.get(username=f"{username}_{info.slug}")
            token = Token.objects.create(user=user).key
        target = FuzzTarget(role=role, info=info, token=token, ids=ids)
        yield target
    finally:
        from django.db import connection

        connection.set_schema_to_public()
        _drop_tenant(info.slug)
    _report(target)


def _report(target: FuzzTarget) -> None:
    minutes = (time.monotonic() - target.started) / 60
    logging.getLogger(__name__).warning(
        "fuzz %s: %d operations, %d requests in %.1f min; statuses %s",
        target.role,
        len(target.calls),
        sum(target.calls.values()),
        minutes,
        dict(sorted(target.statuses.items())),
    )


# --- the document ------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_document(server) -> dict[str, Any]:
    """/api/schema/ as tenant A serves it to its signed-in provider manager."""
    from rest_framework.authtoken.models import Token

    with schema_context(TENANT_A.schema):
        user = get_user_model().objects.get(username=f"manager_{TENANT_A.slug}")
        token, created = Token.objects.get_or_create(user=user)
    try:
        loaded = schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json",
            server,
            headers={"Host": TENANT_A.host, "Authorization": f"Token {token.key}"},
        )
    finally:
        if created:
            with schema_context(TENANT_A.schema):
                token.delete()
    return loaded.raw_schema


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "suppress-health-check": ["all"],
            "generation": {
                "mode": "all",
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": FUZZ_COVERAGE},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


def _real_ids(target: FuzzTarget):
    """A hook: path ids are often those of real objects of the tenant (half of the time)."""

    def flatmap_path_parameters(context, path_parameters):
        path = context.operation.path if context.operation else ""
        resource = path.removeprefix("/api/v1/").split("/", 1)[0]
        known = target.ids.get(resource)
        if not known or "id" not in (path_parameters or {}):
            return st.just(path_parameters)
        return st.one_of(
            st.just(path_parameters),
            st.sampled_from(known).map(lambda pk: {**path_parameters, "id": pk}),
        )

    return flatmap_path_parameters


class ServerThread:
    """The WSGI application, answering on a thread of its own.

    That thread has its own database connection in autocommit, like a real server:
    each request is its own transaction (ATOMIC_REQUESTS) and commits, deferred
    constraints included, whatever the test's thread does.
    """

    def __init__(self) -> None:
        from config.wsgi import application

        self.application = application
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fuzz-server")

    def __call__(self, environ, start_response):
        def answer() -> list[bytes]:
            body = self.application(environ, start_response)
            try:
                return list(body)
            finally:
                getattr(body, "close", lambda: None)()

        return self.executor.submit(answer).result()

    def close(self) -> None:
        from django.db import connections

        self.executor.submit(connections.close_all).result()
        self.executor.shutdown()


@pytest.fixture(scope="module")
def server(_db_unblocked):
    thread = ServerThread()
    yield thread
    thread.close()


@pytest.fixture
def fuzz_schema(api_document, fuzz_target, server):
    loaded = schemathesis.openapi.from_dict(api_document, config=_config())
    loaded.app = server
    loaded.hook(_real_ids(fuzz_target))
    return loaded


def _case_runner(target: FuzzTarget):
    def run(case) -> None:
        elapsed = time.monotonic() - target.started
        assert elapsed < FUZZ_MINUTES * 60, f"fuzz ran out of its {FUZZ_MINUTES} minutes"
        response = case.call(
            base_url=f"http://{target.info.host}",
            headers={"Authorization": f"Token {target.token}"},
        )
        target.calls[case.operation.label] += 1
        target.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    return run


HYPOTHESIS_SETTINGS = hypothesis.settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


def _run_all(fuzz_schema, target: FuzzTarget) -> dict[str, str]:
    """Each operation's Hypothesis test in turn; the failures by operation."""
    # schemathesis' pytest integration (schema.parametrize) does not run on pytest 9.2
    # (it sets request.node._nodeid); the builder it uses for one Hypothesis test per
    # operation, with the configured phases, is called directly instead.
    from schemathesis.pytest.lazy import get_all_tests

    failures: dict[str, str] = {}
    for result in get_all_tests(
        schema=fuzz_schema,
        test_func=_case_runner(target),
        settings=HYPOTHESIS_SETTINGS,
        given_kwargs=None,
    ):
        operation, test = result.ok()
        if not FUZZ_ONLY.search(operation.label):
            continue
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            failures[operation.label] = str(exc)[:4000]
    return failures


def test_every_response_conforms_to_the_document(fuzz_schema, fuzz_target):
    # Every 4xx is logged as a warning by django.request: thousands of lines.
    requests_log = logging.getLogger("django.request")
    level = requests_log.level
    requests_log.setLevel(logging.ERROR)
    try:
        failures = _run_all(fuzz_schema, fuzz_target)
    finally:
        requests_log.setLevel(level)

    calls = fuzz_target.calls
    print(  # the figures docs/RELIABILITY.md quotes (pytest -s)
        f"\nfuzz {fuzz_target.role}: {len(calls)} operations, {sum(calls.values())} cases "
        f"(fewest {min(calls.values(), default=0)} per operation), answers "
        f"{dict(sorted(fuzz_target.statuses.items()))}, failures {len(failures)}"
    )
    report = "\n\n".join(f"=== {label}\n{text}" for label, text in failures.items())
    assert not failures, f"{len(failures)} operation(s) failed:\n{report}"
    too_few = {label: n for label, n in fuzz_target.calls.items() if n < FUZZ_EXAMPLES}
    assert not too_few, f"operations with fewer than {FUZZ_EXAMPLES} cases: {too_few}"
