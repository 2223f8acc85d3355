"""API load for the fault harness: ticket batches with unique external ids, and a probe.

Writer threads POST batches of new tickets (each with one pause) to
``/api/v1/tickets/`` of both tenants, with the provider manager's token and the
tenant's Host header, to 127.0.0.1. Every attempt is recorded: status, Retry-After,
time. A batch answered 2xx is *acknowledged*: each of its external ids must then be
in the database exactly once, with exactly one pause. A batch answered 503 (or not
answered at all) is sent again, unchanged, after a short pause, as an idempotent
client would (the upsert by external id makes the resend safe); this harness does
not wait the full Retry-After, so it can time the recovery to a fraction of a second.
Anything else (a 4xx, a 500) is recorded and the batch given up.

A probe thread asks ``/healthz`` on a tenant host every quarter second.

Both are bounded: by ``max_seconds`` and ``max_batches`` (writers) and by the
stop event.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

RESEND_PAUSE = 0.25
MAX_ATTEMPTS_PER_BATCH = 400  # ~100 s of 503s at RESEND_PAUSE, then the batch is abandoned


@dataclass(frozen=True)
class Target:
    slug: str
    host: str
    token: str
    service: int


@dataclass
class Attempt:
    kind: str  # "write" or "probe"
    tenant: str
    batch: int
    started: float
    finished: float
    status: int | None  # None: no HTTP answer (connection refused/reset, timeout)
    retry_after: str | None
    error: str = ""


@dataclass
class LoadResult:
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)  # tenant -> external ids
    abandoned: dict[str, set[str]] = field(default_factory=dict)  # never acknowledged

    def writes(self) -> list[Attempt]:
        return [a for a in self.attempts if a.kind == "write"]

    def probes(self) -> list[Attempt]:
        return [a for a in self.attempts if a.kind == "probe"]

    def statuses(self, kind: str) -> Counter[str]:
        return Counter(
            str(a.status) if a.status is not None else f"no answer ({a.error})"
            for a in self.attempts
            if a.kind == kind
        )


def _ticket(external_id: str, service: int, opened: datetime) -> dict[str, object]:
    return {
        "external_id": external_id,
        "service": service,
        "priority": "P3",
        "opened_at": opened.isoformat(),
        "first_response_at": (opened + timedelta(minutes=20)).isoformat(),
        "resolved_at": (opened + timedelta(hours=5)).isoformat(),
        "pauses": [
            {
                "start": (opened + timedelta(hours=1)).isoformat(),
                "end": (opened + timedelta(hours=2)).isoformat(),
                "reason": "waiting_customer",
            }
        ],
    }


class ApiLoad:
    def __init__(
        self,
        *,
        base_urls: list[str],
        targets: list[Target],
        run_id: str,
        writers: int = 4,
        batch_size: int = 25,
        max_batches: int = 100_000,
        max_seconds: float = 900,
    ) -> None:
        self.base_urls = base_urls
        self.targets = targets
        self.run_id = run_id
        self.writers = writers
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.max_seconds = max_seconds
        self.result = LoadResult(
            acknowledged={t.slug: set() for t in targets},
            abandoned={t.slug: set() for t in targets},
        )
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Tickets opened in 2001: no agreement's period, so the harness's writes
        # never change what the settlement jobs compute.
        self._epoch = datetime(2001, 1, 1, tzinfo=UTC)

    # -- control ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._deadline = time.monotonic() + self.max_seconds
        for index in range(self.writers):
            self._threads.append(threading.Thread(target=self._writer, args=(index,), daemon=True))
        self._threads.append(threading.Thread(target=self._probe, daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 120) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        return self.result

    def acknowledged_count(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self.result.acknowledged.values())

    def _record(self, attempt: Attempt) -> None:
        with self._lock:
            self.result.attempts.append(attempt)

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    # -- threads ---------------------------------------------------------------------------------

    def _writer(self, index: int) -> None:
        session = requests.Session()
        base = self.base_urls[index % len(self.base_urls)]
        while self._running():
            number = next(self._numbers)
            if number >= self.max_batches:
                return
            target = self.targets[number % len(self.targets)]
            opened = self._epoch + timedelta(minutes=number)
            items = [
                _ticket(f"{self.run_id}-{target.slug}-{number}-{i}", target.service, opened)
                for i in range(self.batch_size)
            ]
            ids = {str(item["external_id"]) for item in items}
            acknowledged = self._send(session, base, target, number, items)
            with self._lock:
                (self.result.acknowledged if acknowledged else self.result.abandoned)[
                    target.slug
                ].update(ids)

    def _send(
        self,
        session: requests.Session,
        base: str,
        target: Target,
        number: int,
        items: list[dict[str, object]],
    ) -> bool:
        headers = {"Host": target.host, "Authorization": f"Token {target.token}"}
        for _ in range(MAX_ATTEMPTS_PER_BATCH):
            started = time.time()
            try:
                response = session.post(
                    f"{base}/api/v1/tickets/", json=items, headers=headers, timeout=(5, 30)
                )
            except requests.RequestException as exc:
                self._record(
                    Attempt(
                        "write",
                        target.slug,
                        number,
                        started,
                        time.time(),
                        None,
                        None,
                        exc.__class__.__name__,
                    )
                )
                session = requests.Session()
                time.sleep(RESEND_PAUSE)
                continue
            self._record(
                Attempt(
                    "write",
                    target.slug,
                    number,
                    started,
                    time.time(),
                    response.status_code,
                    response.headers.get("Retry-After"),
                )
            )
            if 200 <= response.status_code < 300:
                return True
            if response.status_code != 503:
                return False
            time.sleep(RESEND_PAUSE)
        return False

    def _probe(self) -> None:
        session = requests.Session()
        target = self.targets[0]
        while self._running():
            started = time.time()
            try:
                response = session.get(
                    f"{self.base_urls[0]}/healthz", headers={"Host": target.host}, timeout=(5, 10)
                )
                status, retry_after, error = (
                    response.status_code,
                    response.headers.get("Retry-After"),
                    "",
                )
            except requests.RequestException as exc:
                status, retry_after, error = None, None, exc.__class__.__name__
                session = requests.Session()
            self._record(
                Attempt("probe", target.slug, -1, started, time.time(), status, retry_after, error)
            )
            time.sleep(0.25)
