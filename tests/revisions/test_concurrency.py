"""Approve, accept and new draft racing on one agreement: they queue, never deadlock.

Each round commits a fresh revision in a throw-away tenant, then runs two workflow
steps at the same instant on two threads (two database connections) behind a barrier.
Before the agreement was locked first, accept and new-draft took the agreement's and
the revision's row locks in opposite orders and PostgreSQL ended one of them as a
deadlock (a 500 through the API). Now each pair ends in success or a clean refusal.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.services import (
    revision_accept,
    revision_approve,
    revision_create,
    revision_new_draft,
)
from apps.tenants.models import Domain, Tenant
from tests.conftest import TenantInfo, World, _ensure_tenant, build_world

# The test's own connection stays idle inside its transaction: every round is set up,
# raced and checked on threads with connections of their own (autocommit), so that
# each round's rows are committed before the race and seen by both racers.
pytestmark = pytest.mark.django_db
RACE = TenantInfo("revrace", "Race Provider", f"revrace.{settings.BASE_DOMAIN}")
ROUNDS = 12


@pytest.fixture(scope="module")
def race_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with django_db_blocker.unblock():
        _ensure_tenant(RACE)
        with schema_context(RACE.schema):
            world = build_world(RACE)
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            tenant = Tenant.objects.get(schema_name=RACE.schema)
            Domain.objects.filter(tenant=tenant).delete()
            tenant.delete(force_drop=True)


def _race(*steps: Callable[[], Any]) -> list[str]:
    """Run the steps at once, each on its own thread and connection; their outcomes."""
    barrier = threading.Barrier(len(steps), timeout=30)
    outcomes: list[str] = [""] * len(steps)

    def run(index: int, step: Callable[[], Any]) -> None:
        try:
            with schema_context(RACE.schema):
                barrier.wait()
                step()
            outcomes[index] = "ok"
        except ValidationError as exc:  # StateConflict is one: a clean refusal (409/400)
            outcomes[index] = f"refused: {type(exc).__name__}"
        except Exception as exc:  # a deadlock or anything else is a failure
            outcomes[index] = f"ERROR {type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a step hung"
    return outcomes


def _on_own_connection(work: Callable[[], None]) -> None:
    """Run ``work`` on a thread (its own connection, autocommit); re-raise what it raises."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=600)
    assert not thread.is_alive(), "the rounds hung"
    if failure:
        raise failure[0]


def _awaiting_acceptance(world: World, round_: int) -> Revision:
    """A committed revision of agreement X, approved and awaiting X's acceptance."""
    with schema_context(RACE.schema):
        draft = revision_create(
            agreement=world.agreement_x,
            acting_user=world.manager,
            effective_from=date(2027, 1, 1).replace(month=1 + round_ % 12),
        )
        return revision_approve(revision=draft, acting_user=world.manager)


def test_accept_and_new_draft_on_one_revision_never_deadlock(race_world):
    _on_own_connection(lambda: _accept_and_new_draft(race_world))


def _accept_and_new_draft(world: World) -> None:
    seen: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        revision = _awaiting_acceptance(world, round_)
        outcomes = _race(
            lambda r=revision: revision_accept(revision=r, acting_user=world.customer_x),
            lambda r=revision: revision_new_draft(revision=r, acting_user=world.manager),
        )
        assert not [o for o in outcomes if o.startswith("ERROR")], (round_, outcomes)
        seen.update(outcomes)
        with schema_context(RACE.schema):
            revision.refresh_from_db()
            assert revision.status == RevisionStatus.ACCEPTED
            # The draft the race made is discarded for the next round (one draft at a time).
            Revision.objects.filter(agreement=world.agreement_x, status="draft").delete()
    assert seen["ok"] == 2 * ROUNDS  # both steps succeed, one after the other


def test_approve_racing_approve_approves_once(race_world):
    _on_own_connection(lambda: _approve_twice(race_world))


def _approve_twice(world: World) -> None:
    for round_ in range(ROUNDS):
        with schema_context(RACE.schema):
            draft = revision_create(
                agreement=world.agreement_x,
                acting_user=world.manager,
                effective_from=date(2028, 1 + round_ % 12, 1),
            )
        outcomes = _race(
            lambda d=draft: revision_approve(revision=d, acting_user=world.manager),
            lambda d=draft: revision_approve(revision=d, acting_user=world.manager),
        )
        assert sorted(outcomes) == ["ok", "refused: StateConflict"], (round_, outcomes)
