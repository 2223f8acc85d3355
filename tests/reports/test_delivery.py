"""Report e-mails exactly once, proven with real processes: Celery workers and beat on
Redis, an SMTP server on 127.0.0.1 (aiosmtpd, tests/reports/mailserver.py), a worker
SIGKILLed in the middle of the SMTP dialogue, a private PostgreSQL stopped while jobs are
queued, duplicate and concurrent dispatches, SMTP 4xx and 5xx replies. (The schedule
stepped hour by hour through the DST changes: tests/reports/test_dst.py.)

Two tenants of their own (created here, dropped afterwards) hold three subscriptions:
the workers read committed data, and the shared test tenants stay untouched.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.compliance.evaluation import evaluate_period
from apps.parties.models import Contact, ContactRole
from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.services import runs_due, subscription_due
from apps.reports.tasks import dispatch, send_run
from tests.conftest import TenantInfo, _ensure_tenant, _test_database_url, build_world
from tests.core.processes import (
    PrivatePostgres,
    Process,
    celery_env,
    start_beat,
    start_worker,
    wait_for,
)
from tests.reports.mailserver import Collector, smtp_server

# Every test needs the test database (set up only for a session with a database test);
# the integration tests read in their transaction what the workers commit.
pytestmark = pytest.mark.django_db

ONE = TenantInfo("rptone", "Report One Hosting", f"rptone.{settings.BASE_DOMAIN}")
TWO = TenantInfo("rpttwo", "Report Two Hosting", f"rpttwo.{settings.BASE_DOMAIN}")
QUIET = {  # beat entries a test does not exercise
    "COMPLIANCE_EVERY_SECONDS": "3600",
    "CLOSE_EVERY_SECONDS": "3600",
    "NOTIFICATIONS_EVERY_SECONDS": "3600",
}


@dataclass(frozen=True)
class Subscriber:
    tenant: TenantInfo
    subscription_id: int
    email: str
    own: str  # the reference of the agreement its report covers
    foreign: tuple[str, ...]  # references it must never see (other customer, other tenant)
    pdf: bool

    def label(self) -> str:
        with schema_context(self.tenant.schema):
            subscription = ReportSubscription.objects.get(pk=self.subscription_id)
            return subscription_due(subscription, timezone.now()).label


def _subscribe(info: TenantInfo, plans: list[dict]) -> list[Subscriber]:
    world = build_world(info)
    now = timezone.now()
    found = []
    for plan in plans:
        user = None
        contact = None
        if plan.pop("as_user", False):
            user = world.customer_x
            user.email = plan.pop("email")
            user.save(update_fields=["email"])
        else:
            contact = Contact.objects.create(
                party=world.party_x,
                name=f"Reader {info.slug}",
                email=plan.pop("email"),
                role=ContactRole.REPORT_RECIPIENT,
            )
        subscription = ReportSubscription.objects.create(
            party=world.party_x, contact=contact, user=user, send_hour=0, **plan
        )
        evaluate_period(
            agreements=[world.agreement_x],
            period=subscription_due(subscription, now).period,
            now=now,
        )
        found.append(
            Subscriber(
                info,
                subscription.pk,
                subscription.recipient,
                world.agreement_x.reference,
                (world.agreement_y.reference,),
                subscription.attach_pdf,
            )
        )
    return found


@pytest.fixture(scope="module")
def subscribers(django_db_setup, django_db_blocker) -> Iterator[list[Subscriber]]:
    """ONE: a monthly report with its PDF to a contact and a weekly one to a user (New
    York); TWO: a monthly one to a contact. Committed, and dropped at the end."""
    assert settings.DATABASES["default"]["NAME"].startswith("test_")  # never a real database
    with django_db_blocker.unblock():
        _drop(ONE, TWO)  # left over by an interrupted run
        found = []
        for info, plans in (
            (
                ONE,
                [
                    {"email": "rita@one.example", "attach_pdf": True},
                    {
                        "email": "uma@one.example",
                        "as_user": True,
                        "frequency": "weekly",
                        "send_day": 0,
                        "timezone": "America/New_York",
                        "attach_pdf": False,
                    },
                ],
            ),
            (TWO, [{"email": "tina@two.example", "attach_pdf": False}]),
        ):
            _ensure_tenant(info)
            with schema_context(info.schema):
                found += _subscribe(info, plans)
        # Each tenant's subscriber must never see the other tenant's agreements.
        refs = {s.tenant.slug: s.own for s in found}
        found = [
            Subscriber(
                s.tenant,
                s.subscription_id,
                s.email,
                s.own,
                s.foreign + tuple(r for slug, r in refs.items() if slug != s.tenant.slug),
                s.pdf,
            )
            for s in found
        ]
    try:
        yield found
    finally:
        with django_db_blocker.unblock():
            _drop(ONE, TWO)


def _drop(*infos: TenantInfo) -> None:
    from apps.tenants.models import Domain, Tenant

    for info in infos:
        tenant = Tenant.objects.filter(schema_name=info.schema).first()
        if tenant is not None:
            Domain.objects.filter(tenant=tenant).delete()
            tenant.delete(force_drop=True)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Collector, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def fresh(subscribers, smtp) -> Collector:
    """No run recorded and no message received yet: every report is due. (Deleted and
    committed on a connection of its own: the test's transaction would hide it.)"""
    collector, _ = smtp
    with psycopg.connect(_test_database_url(), autocommit=True) as conn:
        for info in (ONE, TWO):
            conn.execute(f'DELETE FROM "{info.schema}".reports_reportrun')
    collector.clear()
    return collector


def worker_env(port: int, database_url: str | None = None, **extra: str) -> dict[str, str]:
    return celery_env(
        database_url or _test_database_url(),
        DJANGO_SETTINGS_MODULE="tests.reports.smtp_settings",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        **extra,
    )


@pytest.fixture(scope="module")
def shared_worker(smtp, subscribers, tmp_path_factory) -> Iterator[tuple[str, Process]]:
    """One worker process with two children (two concurrent consumers) for most tests."""
    _, port = smtp
    queue = f"reports-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tmp_path_factory.mktemp("reports-worker"))
    worker = start_worker(queue, worker_env(port), log_dir, pool="prefork", concurrency=2)
    try:
        yield queue, worker
    finally:
        worker.stop()


def runs(subscriber: Subscriber) -> list[ReportRun]:
    with schema_context(subscriber.tenant.schema):
        return list(ReportRun.objects.filter(subscription_id=subscriber.subscription_id))


def assert_exactly_once(collector: Collector, subscribers: list[Subscriber]) -> None:
    """One message per subscriber, for its period, with its tenant's data only; its run sent."""
    messages = collector.messages()
    assert Counter(str(m["To"]) for m in messages) == {s.email: 1 for s in subscribers}, [
        (m["To"], m["Subject"]) for m in messages
    ]
    for subscriber in subscribers:
        [message] = collector.to(subscriber.email)
        label = subscriber.label()
        assert label in str(message["Subject"])
        text = _text(message)
        assert subscriber.own in text
        for foreign in subscriber.foreign:
            assert foreign not in text, (subscriber.email, foreign)
        assert f"https://{subscriber.tenant.host}/" in str(message["List-Unsubscribe"])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        if subscriber.pdf:
            [pdf] = pdfs
            assert pdf.get_content().startswith(b"%PDF")
        else:
            assert pdfs == []
        [run] = runs(subscriber)
        assert (run.period, run.status) == (label, RunStatus.SENT)
        assert run.message_id == message["Message-ID"]


def _text(message: EmailMessage) -> str:
    parts = [message.get_body(("plain",)), message.get_body(("html",))]
    return "\n".join(part.get_content() for part in parts if part is not None)


def _send_all(subscribers: list[Subscriber], queue: str) -> list:
    results = []
    for subscriber in subscribers:
        with schema_context(subscriber.tenant.schema):
            results.append(
                send_run.apply_async((subscriber.subscription_id, subscriber.label()), queue=queue)
            )
    return results


# --- on real processes ---------------------------------------------------------------


@pytest.mark.integration
def test_beat_and_a_worker_send_each_subscriber_one_message_per_period_of_its_tenant(
    fresh, subscribers, shared_worker, tmp_path
):
    queue, _ = shared_worker
    beat = start_beat(
        {
            **celery_env(_test_database_url()),
            "CELERY_QUEUE": queue,
            "REPORTS_EVERY_SECONDS": "2",
            "REPORTS_SWEEP_EVERY_SECONDS": "2",
            **QUIET,
        },
        tmp_path,
    )
    try:
        wait_for(lambda: len(fresh.messages()) >= 3, 90, "three report e-mails")
        ticks = beat.tail(10**6).count("reports-every-15-minutes")
        wait_for(
            lambda: beat.tail(10**6).count("reports-every-15-minutes") >= ticks + 2,
            30,
            "two more dispatch ticks",
        )
        time.sleep(2)  # their work done: nothing more is sent
    finally:
        beat.stop()
    assert_exactly_once(fresh, subscribers)
    assert all(run.attempts == 1 for s in subscribers for run in runs(s))


@pytest.mark.integration
def test_duplicate_and_concurrent_dispatches_send_nothing_twice(fresh, subscribers, shared_worker):
    queue, _ = shared_worker
    sent = []
    for info in (ONE, TWO):
        with schema_context(info.schema):
            sent += [dispatch.apply_async(queue=queue) for _ in range(3)]
    for _ in range(3):
        sent += _send_all(subscribers, queue)

    outcomes = Counter(result.get(timeout=90) for result in sent)
    wait_for(lambda: len(fresh.messages()) >= 3, 60, "three report e-mails")
    time.sleep(2)  # what the dispatches queued has run too
    assert outcomes["sent"] <= 3 and outcomes["held"] >= 6, outcomes
    assert_exactly_once(fresh, subscribers)


@pytest.mark.integration
def test_an_smtp_4xx_is_retried_and_a_5xx_fails_the_run_for_good(fresh, subscribers, shared_worker):
    queue, worker = shared_worker
    rita, _, tina = subscribers
    fresh.replies[rita.email] = ["451 4.3.0 Mailbox busy, try again"]
    fresh.replies[tina.email] = ["550 5.1.1 No such user"]

    results = _send_all([rita, tina], queue)
    assert [r.get(timeout=60) for r in results] == ["sent", "failed"]

    assert [str(m["To"]) for m in fresh.messages()] == [rita.email]
    [sent] = runs(rita)
    assert (sent.status, sent.attempts, sent.error) == (RunStatus.SENT, 2, "")
    [failed] = runs(tina)
    assert failed.status == RunStatus.FAILED and "550" in failed.error
    assert sorted(fresh.refused) == ["451 4.3.0 Mailbox busy, try again", "550 5.1.1 No such user"]
    with schema_context(TWO.schema):
        assert runs_due(timezone.now()) == []  # a failed run waits for "send now"
    assert "reports.send_run" in worker.tail(10**6) and "SMTPDataError(451" in worker.tail(10**6)


@pytest.mark.integration
def test_a_worker_sigkilled_mid_send_leaves_exactly_one_message_none_missing(
    fresh, subscribers, smtp, tmp_path
):
    """The SMTP server holds the weekly report's final dot; the worker is SIGKILLed then.

    Visibility timeout 10 s and a 12-s lease (production: 280 s and 200 s); the sweeper
    runs every 2 s. The other two reports were queued behind it: a fresh worker sends
    them, and the sweeper and the broker's redelivery of the killed worker's message
    both bring the killed one back — it is sent once.
    """
    _, port = smtp
    rita, uma, tina = subscribers
    queue = f"reports-kill-{uuid.uuid4().hex[:8]}"
    env = worker_env(port, REPORTS_LEASE_SECONDS="12", CELERY_VISIBILITY_TIMEOUT="10")
    fresh.slow[uma.email] = 60
    first = start_worker(queue, env, tmp_path, pool="prefork", concurrency=1)
    second = beat = None
    try:
        _send_all([uma, rita, tina], queue)
        assert fresh.stalled.wait(60), first.tail()
        first.kill_group()
        killed = time.monotonic()
        [claimed] = runs(uma)
        assert claimed.status == RunStatus.SENDING and fresh.to(uma.email) == []

        second = start_worker(queue, env, tmp_path, pool="prefork", concurrency=2)
        beat = start_beat(
            {
                **env,
                "CELERY_QUEUE": queue,
                "REPORTS_EVERY_SECONDS": "3600",
                "REPORTS_SWEEP_EVERY_SECONDS": "2",
                **QUIET,
            },
            tmp_path,
        )
        wait_for(lambda: fresh.to(uma.email), 60, "the killed worker's report")
        print(f"\nthe killed report was sent {time.monotonic() - killed:.1f} s after the SIGKILL")
        wait_for(lambda: len(fresh.messages()) >= 3, 60, "the other two reports")
        # The broker gives the killed worker's message back 10 s (+ a 1-s sweep) after its
        # delivery: let it come and find the run sent.
        time.sleep(max(0.0, killed + 10 + 1 + 3 - time.monotonic()))
    finally:
        for process in (beat, second, first):
            if process is not None:
                process.stop()
    assert_exactly_once(fresh, subscribers)
    [run] = runs(uma)
    assert run.attempts >= 2  # taken over from the dead worker


@pytest.fixture
def private_postgres(fresh, tmp_path_factory) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL with a copy of the public schema and the two report tenants."""
    server = PrivatePostgres(Path(tmp_path_factory.mktemp("reports-pg", numbered=True)))
    try:
        server.start()
        server.copy_schemas(_test_database_url(), ["public", ONE.schema, TWO.schema])
        yield server
    finally:
        server.stop()


@pytest.mark.integration
def test_reports_queued_while_postgresql_is_down_are_all_sent_once_it_is_back(
    fresh, subscribers, smtp, private_postgres, tmp_path
):
    _, port = smtp
    queue = f"reports-pg-{uuid.uuid4().hex[:8]}"
    worker = start_worker(
        queue, worker_env(port, private_postgres.url), tmp_path, pool="prefork", concurrency=2
    )
    try:
        private_postgres.stop()
        results = []
        for info in (ONE, TWO):
            with schema_context(info.schema):
                results.append(dispatch.apply_async(queue=queue))
        results += _send_all(subscribers, queue)
        time.sleep(10)
        assert fresh.messages() == []
        assert all(r.state in ("PENDING", "STARTED", "RETRY") for r in results)

        back = time.monotonic()
        private_postgres.start()
        wait_for(lambda: len(fresh.messages()) >= 3, 90, "three reports after PostgreSQL is back")
        print(f"\nthree reports sent {time.monotonic() - back:.1f} s after PostgreSQL came back")
        for result in results:
            result.get(timeout=60)  # every queued task ran to its end
        time.sleep(2)
        log = worker.tail(10**7)
        assert "transient failure" in log and "PublicSchemaError" not in log
    finally:
        worker.stop()
    messages = fresh.messages()
    assert Counter(str(m["To"]) for m in messages) == {s.email: 1 for s in subscribers}
    with psycopg.connect(private_postgres.url) as conn:
        for info in (ONE, TWO):
            rows = conn.execute(
                f'SELECT status, count(*) FROM "{info.schema}".reports_reportrun GROUP BY status'
            ).fetchall()
            assert dict(rows) == {"sent": 2 if info is ONE else 1}
