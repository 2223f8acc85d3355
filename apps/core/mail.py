"""E-mail helpers: the From of the product's messages, and a backend for development where
every message becomes an .eml file.

With no EMAIL_HOST configured, `make run` writes each outgoing message to
``.data/mail/`` as ``<timestamp>-<n>.eml`` — open it with any mail client to see
exactly what a customer would receive (HTML, text and attachments).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


def sender(provider: str) -> str:
    """The From of every message a customer gets (reports, notices, password resets): the
    provider's name on the platform's address, so they all come from the same sender."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((provider or name, address)) if address else settings.DEFAULT_FROM_EMAIL


_counter = itertools.count()
_lock = threading.Lock()


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _lock:
                number = next(_counter)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.folder / f"{stamp}-{number:04d}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(message.message().as_bytes())
            tmp.replace(path)  # a reader never sees half a message
            sent += 1
        return sent
