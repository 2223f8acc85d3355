"""A memo that lives for one read-only request: reads asked for several times while one
page is built (the party tree, who may see which parties, an agreement's reach, the
objectives in force on a day) are computed once.

``RequestMemoMiddleware`` opens a fresh memo for each GET, HEAD or OPTIONS request and
drops it afterwards. A request that may write (POST, PUT, PATCH, DELETE) gets none, nor
does anything outside a request (jobs, commands, services called from tests): there
every call computes, so nothing read before a write can be served after it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_memo: ContextVar[dict[Hashable, object] | None] = ContextVar("request_memo", default=None)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per request for ``key``."""
    store = _memo.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]  # type: ignore[return-value]


class RequestMemoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
