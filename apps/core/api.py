"""API building blocks shared by every app: auth token, errors, scoping, permissions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.defaults import page_not_found
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.access import ActingUser, User, is_provider_staff
from apps.core.errors import StateConflict
from apps.core.parsers import SafeJSONParser


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ObtainTokenView(ObtainAuthToken):
    """POST {"username", "password"} -> {"token"}.

    Users and tokens live in the tenant's schema, so a token works only on the
    host of the tenant that issued it. A locked-out user name and address get 429
    with Retry-After, right or wrong password. Not one transaction: a refused
    attempt answers 400, and the lockout's record of it must survive that.
    """

    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        credentials = {"username": username} if isinstance(username, str) else {}
        if AxesProxyHandler.is_locked(request._request, credentials):
            cool_off = get_cool_off(request._request)
            seconds = int(cool_off.total_seconds()) if cool_off else 900
            return Response(
                {"detail": "Too many failed sign-ins; try again later."},
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # Answered, not raised: an exception would mark the transaction for rollback
            # through DRF's handler, and the failed attempt must stay recorded.
            return Response(serializer.errors, status=400)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: model/service ValidationError -> 400 with field messages,
    a delete blocked by PROTECT -> 400 naming what still refers to the object."""
    if isinstance(exc, DjangoValidationError):
        detail = get_error_detail(exc)
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail}
        if isinstance(exc, StateConflict):
            set_rollback()
            return Response(detail, status=409)
        exc = ValidationError(detail)
    elif isinstance(exc, ProtectedError):
        names = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        exc = ValidationError({"non_field_errors": [f"Still referred to by: {', '.join(names)}."]})
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under /api/ the API's shape, ``{"detail"}`` as JSON, also for a path no
    route matches (``/api/v1/agreements/1.5/``); elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class ProviderStaffWrites(permissions.BasePermission):
    """Everyone signed in may read what their scope shows; only provider staff write.

    A write by anyone else on one object is refused *after* the object is looked up in
    the user's scope: an object out of sight is a 404 (as for reading it), one in sight
    a 403. Refusing first would tell a customer which ids exist elsewhere apart from
    nothing, but would answer the same URL differently for reading and writing.
    """

    message = "Only provider staff may change this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or is_provider_staff(request.user):
            return True
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup and lookup in getattr(view, "kwargs", {}):
            view.get_object()  # type: ignore[attr-defined]  # Http404 when out of sight
        return False


class ScopedModelViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose queryset is what the user may see (others get 404).

    Subclasses implement ``scoped_queryset(user)``; serializers write through
    services, so this class stays free of rules.
    """

    permission_classes = [permissions.IsAuthenticated, ProviderStaffWrites]

    def scoped_queryset(self, user: User) -> QuerySet[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped_queryset(self.request.user)


# Refuse fields the serializer does not know (a 400 naming them): a misspelt field must
# not be silently ignored. (Comments, not docstrings, on these bases: the API schema
# would show a base's docstring as the description of every serializer built on it.)
class StrictFieldsMixin:
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name)[:64] for name in set(data) - set(self.fields))
            if unknown:
                raise ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


# The base of the request bodies of actions (evaluate, dispute, elapsed, ...). No
# docstring: the API schema would show it as every subclass's description.
class InputSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


# A ModelSerializer whose create/update call a service ``save_with(instance, user, data)``.
class ServiceSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    def save_with(
        self, *, instance: Any, acting_user: ActingUser, data: dict[str, Any]
    ) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def create(self, validated_data: dict[str, Any]) -> Any:
        return self.save_with(
            instance=None, acting_user=self.context["request"].user, data=validated_data
        )

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        return self.save_with(
            instance=instance, acting_user=self.context["request"].user, data=validated_data
        )
