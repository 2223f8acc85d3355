"""An SMTP server on 127.0.0.1 for the delivery tests (aiosmtpd, in a thread of the test).

It keeps every message it accepted, that is answered with 250 after the final dot. A
recipient can be made slow (the server waits before answering, once: a worker killed
meanwhile has not had its message accepted, as with a real server) or refused with a
queued reply (``451 …`` transient, ``550 …`` for good).
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller


class Collector:
    """The aiosmtpd handler: what was accepted, and what to do with the next DATA."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[EmailMessage] = []
        self.slow: dict[str, float] = {}  # recipient -> seconds to wait before the 250, once
        self.replies: dict[str, list[str]] = {}  # recipient -> replies to give instead of 250
        self.stalled = threading.Event()  # set when a slow DATA is being held
        self.refused: list[str] = []  # the replies given instead of 250

    def clear(self) -> None:
        with self.lock:
            self.accepted.clear()
            self.slow.clear()
            self.replies.clear()
            self.refused.clear()
            self.stalled.clear()

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.accepted)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address in str(m["To"])]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients = [address.lower() for address in envelope.rcpt_tos]
        with self.lock:
            waits = [self.slow.pop(address, 0.0) for address in recipients]
            queued = [self.replies[a].pop(0) for a in recipients if self.replies.get(a)]
        if queued:
            with self.lock:
                self.refused.append(queued[0])
            return queued[0]
        if max(waits, default=0):
            self.stalled.set()
            # Cancelled by aiosmtpd when the client's connection goes away.
            await asyncio.sleep(max(waits))
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.accepted.append(cast(EmailMessage, message))
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A running server on 127.0.0.1: (its collector, its port)."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()
