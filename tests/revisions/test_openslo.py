"""SLO-as-code: GET agreements/{id}/openslo/ (OpenSLO v1 YAML) and manage.py openslo_import.

Every exported document is checked against tests/fixtures/openslo/schema/ (a JSON
Schema written from the OpenSLO v1 specification, see the README beside it).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.agreements.models import Agreement
from apps.calendars.models import WorkingRange
from apps.revisions.models import (
    Aggregate,
    Comparison,
    CreditTier,
    Metric,
    Objective,
    Revision,
    RevisionStatus,
)
from apps.revisions.openslo.importing import ImportRefused
from apps.revisions.services import revision_approve, revision_import_openslo
from tests.conftest import TENANT_A, TENANT_B, api_as
from tests.factories import CalendarFactory, ObjectiveFactory, RevisionFactory, ServiceFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "openslo"
SCHEMA = json.loads((FIXTURES / "schema" / "openslo-v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
TERMS = (
    "metric",
    "target",
    "comparison",
    "threshold_seconds",
    "aggregate",
    "sample_metric",
    "period",
    "calendar_id",
    "service_id",
    "priority",
)


def url(agreement) -> str:
    return f"/api/v1/agreements/{agreement.pk}/openslo/"


def documents(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/yaml")
    found = [doc for doc in yaml.safe_load_all(response.content.decode()) if doc is not None]
    for document in found:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATOR.iter_errors(document)
        ]
        assert not errors, (document["metadata"]["name"], errors)
    return found


def slos(found: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["annotations"]["sla-portal/key"]: d for d in found if d["kind"] == "SLO"}


def test_the_examples_and_the_schema_agree():
    for path in sorted((FIXTURES / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert not list(VALIDATOR.iter_errors(document)), path.name
    wrong = yaml.safe_load((FIXTURES / "examples" / "availability-monthly.yaml").read_text())
    wrong["spec"]["objectives"][0]["target"] = 99.9  # a percentage where a fraction belongs
    assert list(VALIDATOR.iter_errors(wrong))


# --- who may read it -----------------------------------------------------------------


def test_who_may_export(world_a, world_b, api_a, api_b):
    address = url(world_a.agreement_x)
    assert api_a.get(address).status_code == 401  # anonymous
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.customer_y)
    assert api_a.get(address).status_code == 404  # another customer's agreement
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
    stranger = APIClient(HTTP_HOST=TENANT_A.host)
    stranger.credentials(HTTP_AUTHORIZATION=api_b._credentials["HTTP_AUTHORIZATION"])
    assert stranger.get(address).status_code == 401  # another tenant's token
    for user in (world_a.customer_x, world_a.manager):
        with schema_context(TENANT_A.schema):
            api_as(api_a, user)
        assert len(slos(documents(api_a.get(address)))) == 1
    assert api_a.get("/api/v1/agreements/abc/openslo/").status_code == 404
    assert api_a.post(address, {}).status_code == 405


def test_another_tenants_agreement_is_not_found_on_its_host(world_a, world_b, api_b):
    """An agreement that exists only in tenant A is a 404 on B's host, even for B's staff."""
    with schema_context(TENANT_A.schema):
        only_in_a = RevisionFactory().agreement  # a third agreement, in A alone
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
        assert not Agreement.objects.filter(pk=only_in_a.pk).exists()
    assert api_b.get(url(only_in_a)).status_code == 404


# --- what it says ---------------------------------------------------------------------


def test_the_worlds_availability_objective(world_a, manager_api):
    found = documents(manager_api.get(url(world_a.agreement_x), {"on": "2026-10-15"}))
    services = [d for d in found if d["kind"] == "Service"]
    assert [(s["metadata"]["name"], s["metadata"]["displayName"]) for s in services] == [
        ("x-alpha", "X-alpha: all services")  # the objective is about every covered service
    ]
    assert world_a.service.name in services[0]["spec"]["description"]
    slo = slos(found)["availability"]
    spec, notes = slo["spec"], slo["metadata"]["annotations"]
    assert spec["budgetingMethod"] == "Occurrences"
    assert spec["objectives"][0]["target"] == pytest.approx(0.999)
    assert spec["timeWindow"] == [
        {
            "duration": "1M",
            "calendar": {"startTime": "2026-01-01 00:00:00", "timeZone": "Europe/Berlin"},
            "isRolling": False,
        }
    ]
    assert set(spec["indicator"]["spec"]["ratioMetric"]) == {"counter", "good", "total"}
    assert notes["sla-portal/target"] == "99.9"
    assert notes["sla-portal/calendar"] == world_a.calendar.name
    assert notes["sla-portal/calendar-from"] == "objective"
    assert notes["sla-portal/credit-tiers"] == "below 99.9 -> 10 % of the fee"
    assert notes["sla-portal/revision"] == "1"
    # Before the revision takes effect nothing is in force.
    early = manager_api.get(url(world_a.agreement_x), {"on": "2025-12-31"})
    assert slos(documents(early)) == {}
    assert b"No objective to export" in early.content


@pytest.mark.parametrize(
    "bad", ["2026-13-01", "tomorrow", "1969-12-31", "2026-1-1", "２０２６-01-01"]
)
def test_a_bad_date_is_a_400(world_a, manager_api, bad):
    response = manager_api.get(url(world_a.agreement_x), {"on": bad})
    assert response.status_code == 400 and "on" in response.json()


@pytest.fixture
def many(world_a):
    """Agreement Y with a quarterly revision holding every kind of objective."""
    with schema_context(TENANT_A.schema):
        office = CalendarFactory(name="Office hours", timezone="America/New_York")
        WorkingRange.objects.create(calendar=office, weekday=0, start_minute=540, end_minute=1020)
        desk = ServiceFactory(name="Service Desk")
        revision = RevisionFactory(agreement=world_a.agreement_y)
        made = {
            "uptime": dict(metric=Metric.AVAILABILITY, target=Decimal("99.95"), service=desk),
            "p1_response": dict(
                metric=Metric.RESPONSE_TIME,
                target=Decimal("95"),
                threshold_seconds=900,
                priority="P1",
                calendar=office,
                period="quarter",
            ),
            "resolution": dict(
                metric=Metric.RESOLUTION_TIME, target=Decimal("90"), threshold_seconds=14400
            ),
            "fcr": dict(metric=Metric.FIRST_CONTACT_RESOLUTION, target=Decimal("70")),
            "closure": dict(metric=Metric.CLOSURE_RATE, target=Decimal("85.5")),
            "turnaround": dict(
                metric=Metric.TURNAROUND_TIME,
                target=Decimal("3600"),
                aggregate=Aggregate.P95,
                comparison=Comparison.LTE,
            ),
            "csat": dict(
                metric=Metric.SAMPLE,
                target=Decimal("4.5"),
                aggregate=Aggregate.P50,
                sample_metric="csat",
                comparison=Comparison.GTE,
            ),
            "latency_mean": dict(
                metric=Metric.SAMPLE,
                target=Decimal("300"),
                aggregate=Aggregate.MEAN,
                sample_metric="latency_ms",
                comparison=Comparison.LTE,
            ),
            "perfect": dict(metric=Metric.AVAILABILITY, target=Decimal("100")),
        }
        for key, terms in made.items():
            ObjectiveFactory(revision=revision, key=key, **terms)
        CreditTier.objects.create(revision=revision, below=Decimal("95"), percent=Decimal("5"))
        Agreement.objects.filter(pk=world_a.agreement_y.pk).update(requires_acceptance=False)
        revision.agreement.refresh_from_db()
        revision_approve(revision=revision, acting_user=world_a.manager)
        return revision, office, desk


def test_every_kind_of_objective_maps_or_is_named_as_left_out(world_a, manager_api, many):
    office = many[1]
    response = manager_api.get(url(world_a.agreement_y), {"on": "2026-02-01"})
    found = slos(documents(response))
    assert set(found) == {
        "uptime",
        "p1_response",
        "resolution",
        "fcr",
        "closure",
        "turnaround",
        "csat",
    }
    text = response.content.decode()
    assert "left out: latency_mean (a mean over the period" in text
    assert "left out: perfect (a target of 100 %" in text
    response_slo = found["p1_response"]["spec"]
    assert response_slo["objectives"][0] | {"displayName": ""} == {
        "displayName": "",
        "op": "lte",
        "value": 900,
        "target": pytest.approx(0.95),
    }
    assert "thresholdMetric" in response_slo["indicator"]["spec"]
    assert response_slo["timeWindow"][0]["duration"] == "1Q"
    assert response_slo["timeWindow"][0]["calendar"]["timeZone"] == "America/New_York"
    notes = found["p1_response"]["metadata"]["annotations"]
    assert notes["sla-portal/priority"] == "P1"
    assert notes["sla-portal/working-hours"] == "Mon 09:00-17:00"
    with schema_context(TENANT_A.schema):
        for weekday in (1, 2, 4):  # Tue, Wed like Monday; Fri too, but Thu is missing
            WorkingRange.objects.create(
                calendar=office, weekday=weekday, start_minute=540, end_minute=1020
            )
    again = slos(documents(manager_api.get(url(world_a.agreement_y), {"on": "2026-02-01"})))
    hours = again["p1_response"]["metadata"]["annotations"]["sla-portal/working-hours"]
    assert hours == "Mon-Wed 09:00-17:00; Fri 09:00-17:00"
    assert found["uptime"]["spec"]["service"] == "service-desk"
    assert found["csat"]["spec"]["objectives"][0] | {"displayName": ""} == {
        "displayName": "",
        "op": "gte",
        "value": 4.5,
        "target": 0.5,
    }
    assert found["turnaround"]["spec"]["objectives"][0]["target"] == 0.95
    assert found["closure"]["metadata"]["annotations"]["sla-portal/credit-tiers"] == (
        "below 95 -> 5 % of the fee"
    )


# --- import -----------------------------------------------------------------------------


def _terms(objective: Objective) -> tuple:
    return tuple(getattr(objective, name) for name in TERMS)


def test_an_export_imports_back_to_the_same_objectives(world_a, manager_api, many):
    revision = many[0]
    text = manager_api.get(url(world_a.agreement_y), {"on": "2026-02-01"}).content.decode()
    with schema_context(TENANT_A.schema):
        draft = RevisionFactory(agreement=world_a.agreement_x, effective_from=date(2026, 4, 1))
        created, _plan = revision_import_openslo(
            revision=draft, text=text, acting_user=world_a.manager
        )
        originals = {o.key: o for o in revision.objectives.all()}
        assert {o.key for o in created} == set(originals) - {"latency_mean", "perfect"}
        for objective in created:
            assert objective.revision_id == draft.pk
            assert _terms(objective) == _terms(originals[objective.key]), objective.key


def test_a_plain_openslo_file_imports_with_its_time_zone_and_service(world_a):
    text = (FIXTURES / "examples" / "availability-monthly.yaml").read_text()
    with schema_context(TENANT_A.schema):
        always = CalendarFactory(name="24×7 Berlin", timezone="Europe/Berlin")
        hosting = ServiceFactory(name="Web Hosting")
        draft = RevisionFactory(agreement=world_a.agreement_y)
        (objective,), _ = revision_import_openslo(
            revision=draft, text=text, acting_user=world_a.manager
        )
        assert (objective.key, objective.metric, objective.target) == (
            "web_hosting_availability",
            "availability",
            Decimal("99.9"),
        )
        assert (objective.period, objective.calendar_id, objective.service_id) == (
            "month",
            always.pk,
            hosting.pk,
        )


def _refused(world, text: str, revision=None) -> list[str]:
    with schema_context(TENANT_A.schema):
        drafts = Revision.objects.filter(agreement=world.agreement_y, status=RevisionStatus.DRAFT)
        target = revision or drafts.first() or RevisionFactory(agreement=world.agreement_y)
        before = Objective.objects.count()
        with pytest.raises(ImportRefused) as refused:
            revision_import_openslo(revision=target, text=text, acting_user=world.manager)
        assert Objective.objects.count() == before  # nothing written
    return refused.value.problems


def test_what_cannot_be_expressed_is_refused_with_the_reason(world_a):
    rolling = (FIXTURES / "examples" / "rolling-28d.yaml").read_text()
    sli = (
        "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: web-hosting-non-5xx}\n"
        "spec:\n  ratioMetric:\n    counter: true\n"
        "    good: {metricSource: {type: Prometheus, spec: {query: good}}}\n"
        "    total: {metricSource: {type: Prometheus, spec: {query: total}}}\n"
    )
    (problem,) = _refused(world_a, rolling + "---\n" + sli)
    assert "rolling time window cannot be expressed" in problem
    (problem,) = _refused(world_a, (FIXTURES / "examples" / "latency-quarterly.yaml").read_text())
    assert "Timeslices" in problem and "Occurrences" in problem


def test_one_bad_slo_refuses_the_whole_file(world_a):
    good = (FIXTURES / "examples" / "availability-monthly.yaml").read_text()
    with schema_context(TENANT_A.schema):
        CalendarFactory(name="24×7 Berlin", timezone="Europe/Berlin")
        ServiceFactory(name="Web Hosting")
    second = good.replace("web-hosting-availability", "web-hosting-weekly").replace(
        "duration: 1M", "duration: 1w"
    )
    problems = _refused(world_a, good + "---\n" + second)
    assert len(problems) == 1 and "1w" in problems[0] and "web-hosting-weekly" in problems[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("target: 0.999", "target: 0.999\n      targetPercent: 99.9"), "exactly one of target"),
        (("service: web-hosting", "service: mainframe"), "names none of our services"),
        (
            ('startTime: "2026-01-01 00:00:00"', 'startTime: "2026-01-15 00:00:00"'),
            "midnight on the first",
        ),
        (("timeZone: Europe/Berlin", "timeZone: Mars/Olympus"), "not an IANA time zone"),
        (
            ("timeZone: Europe/Berlin", "timeZone: Asia/Tokyo"),
            "No 24×7 calendar in time zone Asia/Tokyo",
        ),
        (("apiVersion: openslo/v1", "apiVersion: openslo/v2alpha1"), "not an OpenSLO openslo/v1"),
        (("name: web-hosting-availability", "name: 9-lives"), "Objective key '9_lives'"),
    ],
)
def test_refusals_name_the_problem(world_a, change, expected):
    text = (FIXTURES / "examples" / "availability-monthly.yaml").read_text().replace(*change, 1)
    with schema_context(TENANT_A.schema):
        CalendarFactory(name="24×7 Berlin", timezone="Europe/Berlin")
        ServiceFactory(name="Web Hosting")
    problems = _refused(world_a, text)
    assert any(expected in problem for problem in problems), problems


def test_a_threshold_indicator_needs_to_say_what_it_measures(world_a):
    text = (FIXTURES / "examples" / "latency-quarterly.yaml").read_text()
    text = text.replace("budgetingMethod: Timeslices", "budgetingMethod: Occurrences")
    problems = _refused(world_a, text)
    assert any("sla-portal/metric" in problem for problem in problems), problems


def test_only_a_draft_takes_objectives_and_keys_stay_unique(world_a, manager_api):
    text = manager_api.get(url(world_a.agreement_x)).content.decode()
    (problem,) = _refused(world_a, text, revision=world_a.revision_x)
    assert "approved" in problem or "accepted" in problem
    with schema_context(TENANT_A.schema):
        draft = RevisionFactory(agreement=world_a.agreement_y)
        ObjectiveFactory(revision=draft, key="availability")
    (problem,) = _refused(world_a, text, revision=draft)
    assert "already used" in problem


def test_garbage_is_refused(world_a):
    assert "Not valid YAML" in _refused(world_a, "key: [unclosed")[0]
    assert "no SLO document" in _refused(world_a, "")[0]
    assert "not an OpenSLO" in _refused(world_a, "- just\n- a list\n")[0]


# --- the command --------------------------------------------------------------------------


def test_the_command_imports_and_reports(world_a, tmp_path, manager_api):
    text = manager_api.get(url(world_a.agreement_x)).content.decode()
    path = tmp_path / "slos.yaml"
    path.write_text(text)
    with schema_context(TENANT_A.schema):
        draft = RevisionFactory(agreement=world_a.agreement_y)
    out = StringIO()
    call_command(
        "openslo_import",
        str(path),
        revision=draft.pk,
        tenant=TENANT_A.schema,
        user=world_a.manager.username,
        stdout=out,
    )
    assert "1 draft objective(s)" in out.getvalue() and "availability" in out.getvalue()
    with schema_context(TENANT_A.schema):
        assert draft.objectives.get().calendar_id == world_a.calendar.pk
    with pytest.raises(CommandError, match="already used"):
        call_command(
            "openslo_import",
            str(path),
            revision=draft.pk,
            tenant=TENANT_A.schema,
            user=world_a.manager.username,
        )
    with pytest.raises(CommandError, match="No revision"):
        call_command("openslo_import", str(path), revision=999999, tenant=TENANT_A.schema)
    with pytest.raises(CommandError, match="No tenant"):
        call_command("openslo_import", str(path), revision=draft.pk, tenant="nowhere")
    with pytest.raises(CommandError, match="No active provider staff"):
        call_command(
            "openslo_import",
            str(path),
            revision=draft.pk,
            tenant=TENANT_A.schema,
            user=world_a.customer_x.username,
        )


def test_openapi_documents_the_export(manager_api):
    schema = manager_api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/agreements/{id}/openslo/"]["get"]
    assert "application/yaml" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"id", "on"}
