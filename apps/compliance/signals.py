"""Signals of the compliance step, for layers above it (metrics, notifications).

``period_evaluated`` is sent by :func:`apps.compliance.evaluation.evaluate_period` after
every evaluation, with ``agreements`` (how many), ``period`` (its label), ``results``
(how many were computed) and ``seconds`` (wall time of the call). Receivers must not
raise: they run inside the caller's transaction, on the caller's thread.
"""

from django.dispatch import Signal

period_evaluated = Signal()
