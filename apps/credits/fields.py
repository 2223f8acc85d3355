"""API fields of the credits app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.money import money_text


@extend_schema_field({"type": "string", "example": "125.00"})
class MoneyField(serializers.Field):
    """An amount as a string with exactly the currency's minor-unit digits ("125.00", "125")."""

    def __init__(self, *, currency_of: Callable[[Any], str], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_of = currency_of

    def get_attribute(self, instance: Any) -> Any:
        return instance

    def to_representation(self, instance: Any) -> str | None:
        value = getattr(instance, self.source or self.field_name or "")
        if value is None:
            return None
        return money_text(value, self.currency_of(instance))
