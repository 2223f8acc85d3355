"""The per-request memo: once per read-only request, never across requests or writes."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from apps.core.memo import RequestMemoMiddleware, memoized


def _counting_view(calls: list[int]):
    def view(request: HttpRequest) -> HttpResponse:
        first = memoized(("answer",), lambda: calls.append(1) or len(calls))
        second = memoized(("answer",), lambda: calls.append(1) or len(calls))
        return HttpResponse(f"{first},{second}")

    return view


def test_a_get_computes_once_and_the_next_request_computes_again():
    calls: list[int] = []
    middleware = RequestMemoMiddleware(_counting_view(calls))
    factory = RequestFactory()
    assert middleware(factory.get("/")).content == b"1,1"
    assert middleware(factory.get("/")).content == b"2,2"  # a fresh memo per request
    assert len(calls) == 2


def test_a_request_that_may_write_gets_no_memo():
    calls: list[int] = []
    middleware = RequestMemoMiddleware(_counting_view(calls))
    for method in ("post", "put", "patch", "delete"):
        calls.clear()
        response = middleware(getattr(RequestFactory(), method)("/"))
        assert response.content == b"1,2", method  # computed at each call
        assert len(calls) == 2


def test_outside_a_request_every_call_computes():
    calls: list[int] = []
    assert memoized(("answer",), lambda: calls.append(1) or len(calls)) == 1
    assert memoized(("answer",), lambda: calls.append(1) or len(calls)) == 2


def test_the_memo_is_dropped_when_the_view_raises():
    calls: list[int] = []

    def failing(request: HttpRequest) -> HttpResponse:
        memoized(("answer",), lambda: calls.append(1))
        raise RuntimeError("boom")

    middleware = RequestMemoMiddleware(failing)
    with pytest.raises(RuntimeError):
        middleware(RequestFactory().get("/"))
    memoized(("answer",), lambda: calls.append(1))
    assert len(calls) == 2  # nothing left behind for the next piece of work
