"""`make run`'s stack from nothing: embedded servers, migrate, seed, web + worker + beat.

Runs `manage.py runstack` (what `make run` runs after installing) with no
DATABASE_URL/REDIS_URL and an empty data folder, signs in as a demo user
through the real gunicorn, then stops it and checks the embedded servers
stopped with it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children_named(process: psutil.Process, fragment: str) -> list[psutil.Process]:
    found = []
    for child in process.children(recursive=True):
        try:
            if fragment in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def _servers_of(data_dir: Path) -> list[psutil.Process]:
    """postgres and redis-server processes working in ``data_dir`` (by command line or cwd)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            inside = str(data_dir) in " ".join(proc.info["cmdline"] or []) or (
                "redis" in (proc.info["name"] or "") and str(data_dir) in proc.cwd()
            )
        except psutil.Error:
            continue
        if inside:
            found.append(proc)
    return found


def test_runstack_serves_the_demo_portal_with_embedded_servers(tmp_path):
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        SLA_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEMO_PASSWORD="smoke-test-pass-42",
        CELERY_QUEUE=f"smoke-{port}",
        WEB_CONCURRENCY="1",
        CELERY_CONCURRENCY="1",
    )
    log_path = tmp_path / "runstack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Host"] = f"demo.localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        login = None
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-4000:]
            try:
                login = session.get(f"{base}/login/", timeout=10)
                if login.status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a cold first request
                pass
            time.sleep(0.5)
        assert login is not None and login.status_code == 200, log_path.read_text()[-4000:]
        assert "Northwind Hosting" in login.text

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = session.post(
            f"{base}/login/",
            data={
                "username": "alice",
                "password": "smoke-test-pass-42",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"http://demo.localhost:{port}/login/"},
        )
        assert signed_in.status_code == 200
        assert "Welcome, Alice" in signed_in.text

        health = session.get(f"{base}/healthz").json()
        assert health == {"status": "ok", "schema": "demo", "database": "ok", "redis": "ok"}
        assert (data_dir / "pg" / "PG_VERSION").exists()

        stack = psutil.Process(process.pid)
        assert _children_named(stack, "celery"), "worker/beat are not running"
        assert _servers_of(data_dir), "the embedded servers are not running"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise

    # The stack's exit stopped the embedded PostgreSQL and Redis it had started.
    deadline = time.monotonic() + 15
    while _servers_of(data_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _servers_of(data_dir) == []
