"""Where the metrics come from: Celery's task signals and the compliance step's
``period_evaluated`` signal.

Both are connected once per process from ``ObservabilityConfig.ready()`` (web,
worker and beat all set up Django), and both only call ``apps.observability.metrics``,
which never raises.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_failure, task_retry, task_revoked, task_success

from apps.compliance.signals import period_evaluated
from apps.observability.metrics import observe_evaluation, record_task_outcome


def _task_name(sender: Any, request: Any = None) -> str:
    name = getattr(sender, "name", None) or getattr(request, "task", None) or sender
    return str(name or "unknown")


def _on_success(sender: Any = None, **kwargs: Any) -> None:
    record_task_outcome(_task_name(sender), "success")


def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    record_task_outcome(_task_name(sender), "failure")


def _on_retry(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    record_task_outcome(_task_name(sender, request), "retry")


def _on_revoked(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    record_task_outcome(_task_name(sender, request), "revoked")


def connect_task_signals() -> None:
    for signal, receiver in (
        (task_success, _on_success),
        (task_failure, _on_failure),
        (task_retry, _on_retry),
        (task_revoked, _on_revoked),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"observability.{receiver.__name__}")


def _on_period_evaluated(sender: Any = None, seconds: float = 0.0, **kwargs: Any) -> None:
    observe_evaluation(seconds)


def connect_evaluation_signal() -> None:
    """Time every evaluation through the signal the compliance step sends after each."""
    period_evaluated.connect(
        _on_period_evaluated, weak=False, dispatch_uid="observability.period_evaluated"
    )
