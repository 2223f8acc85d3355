"""tenant_backup / tenant_restore: one tenant's schema, dumped and restored as a new tenant.

pg_dump and pg_restore run in other processes, so the data must be committed: a
module fixture creates a source tenant of its own (a small world, an outage that
misses the availability objective, October 2026 settled: a missed result and a
credit), backs its schema up, restores the archive as a second new tenant, and
removes both tenants and schemas afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_tenants.utils import schema_context, schema_exists
from rest_framework.test import APIClient

from apps.tenants.models import Domain, Tenant
from tests.conftest import PASSWORD, TenantInfo, _ensure_tenant, api_as, build_world

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

PERIOD = "2026-10"


@dataclass(frozen=True)
class Restored:
    source: TenantInfo
    copy: TenantInfo
    archive: Path
    agreement: int
    results: list[dict[str, Any]]
    credits: list[dict[str, Any]]
    token: str


def _results() -> list[dict[str, Any]]:
    from apps.compliance.models import ComplianceResult

    return list(
        ComplianceResult.objects.order_by("agreement_id", "key", "period").values(
            "agreement_id", "key", "period", "status", "attained", "target", "data_points"
        )
    )


def _credits() -> list[dict[str, Any]]:
    from apps.credits.models import ServiceCredit

    return list(
        ServiceCredit.objects.order_by("agreement_id", "period").values(
            "agreement_id", "period", "percent", "amount", "currency", "status"
        )
    )


def _drop(slug: str) -> None:
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is not None:
        Domain.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)
    elif schema_exists(slug):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{slug}" CASCADE')


@pytest.fixture(scope="module")
def restored(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Restored]:
    from rest_framework.authtoken.models import Token

    from apps.calendars.periods import parse_period
    from apps.credits.settlement import period_settle
    from apps.measurements.models import Outage

    suffix = secrets.token_hex(3)
    source = TenantInfo(f"bk{suffix}", "Backup Source", f"bk{suffix}.{settings.BASE_DOMAIN}")
    copy = TenantInfo(f"rs{suffix}", "Restored Copy", f"rs{suffix}.{settings.BASE_DOMAIN}")
    archive = tmp_path_factory.mktemp("backup") / f"{source.slug}.dump"
    with django_db_blocker.unblock():
        try:
            _ensure_tenant(source)
            with schema_context(source.schema):
                world = build_world(source)
                Outage.objects.create(
                    external_id="backup-outage",
                    service=world.service,
                    start=datetime(2026, 10, 14, 9, tzinfo=UTC),
                    end=datetime(2026, 10, 14, 12, tzinfo=UTC),
                )
                period_settle(
                    agreements=[world.agreement_x],
                    period=parse_period(PERIOD),
                    now=datetime(2026, 11, 20, tzinfo=UTC),
                )
                results, credits = _results(), _credits()
                token = Token.objects.get_or_create(user=world.manager)[0].key
            call_command("tenant_backup", source.schema, str(archive))
            call_command("tenant_restore", str(archive), copy.slug, "--name", copy.name)
            yield Restored(source, copy, archive, world.agreement_x.pk, results, credits, token)
        finally:
            _drop(copy.slug)
            _drop(source.slug)


def test_the_source_has_a_missed_result_and_a_credit(restored):
    statuses = {r["key"]: r["status"] for r in restored.results if r["period"] == PERIOD}
    assert statuses == {"availability": "missed"}
    assert [(c["period"], c["amount"]) for c in restored.credits] == [(PERIOD, pytest.approx(100))]
    assert restored.archive.stat().st_size > 0


def test_the_restore_is_a_new_tenant_on_its_own_host(restored):
    tenant = Tenant.objects.get(schema_name=restored.copy.slug)
    assert tenant.name == restored.copy.name
    assert tenant.get_primary_domain().domain == restored.copy.host
    assert schema_exists(restored.copy.slug)
    assert schema_exists(restored.source.slug)  # the source is untouched


def test_same_compliance_and_credits_in_the_orm(restored):
    with schema_context(restored.copy.schema):
        assert _results() == restored.results
        assert _credits() == restored.credits


def test_same_compliance_through_the_api_on_the_new_host(restored):
    """Signed in on the copy's host with the source's password; the API shows the results."""
    query = {"agreement": restored.agreement, "period": PERIOD}
    client = Client(HTTP_HOST=restored.copy.host)
    assert (
        client.post(
            "/login/", {"username": f"manager_{restored.source.slug}", "password": PASSWORD}
        ).status_code
        == 302
    )
    copy_body = client.get("/api/v1/compliance/", query).json()

    source_api = APIClient(HTTP_HOST=restored.source.host)
    with schema_context(restored.source.schema):
        from django.contrib.auth import get_user_model

        api_as(source_api, get_user_model().objects.get(username=f"manager_{restored.source.slug}"))
    source_body = source_api.get("/api/v1/compliance/", query).json()

    def essentials(body: dict[str, Any]) -> list[tuple]:
        return sorted(
            (r["key"], r["period"], r["status"], r["attained"], r["data_points"])
            for r in body["results"]
        )

    assert essentials(copy_body) == essentials(source_body)
    assert [r["status"] for r in copy_body["results"]] == ["missed"]


def test_tokens_of_the_source_do_not_open_the_copy(restored):
    api = APIClient(HTTP_HOST=restored.copy.host)
    api.credentials(HTTP_AUTHORIZATION=f"Token {restored.token}")
    assert api.get("/api/v1/compliance/").status_code == 401


def test_a_taken_slug_or_a_missing_schema_is_refused(restored, tmp_path):
    with pytest.raises(CommandError, match="already exists"):
        call_command("tenant_restore", str(restored.archive), restored.source.slug)
    with pytest.raises(CommandError, match="no tenant schema"):
        call_command("tenant_backup", "nosuchtenant", str(tmp_path / "x.dump"))
    with pytest.raises(CommandError, match="not a provider tenant"):
        call_command("tenant_backup", "public", str(tmp_path / "x.dump"))
