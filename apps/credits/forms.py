"""The range of a what-if as a form (the admin's tool and the portal's page share it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from apps.calendars.periods import Period
from apps.credits.whatif import what_if_range


class WhatIfRangeForm(forms.Form):
    """``?from=YYYY-MM&to=YYYY-MM``; unbound, the given default range. The rules are
    ``what_if_range``'s; its messages land on the field they name."""

    def __init__(self, data: QueryDict | None, *, default: tuple[Period, Period]) -> None:
        bound = data is not None and ("from" in data or "to" in data)
        first, last = default
        super().__init__(data if bound else None, initial={"from": first.label, "to": last.label})
        # "from" is a Python keyword: the fields are added here, not declared as attributes.
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.CharField(
                label=label,
                max_length=16,
                widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
            )
        self.range: tuple[Period, Period] | None = None if bound else default

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "from" in data and "to" in data:
            try:
                self.range = what_if_range(start=data["from"], end=data["to"])
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return data

    def chosen(self) -> tuple[Period, Period] | None:
        """The range to show: the default when unbound, the valid input, else None."""
        if self.is_bound and not self.is_valid():
            return None
        return self.range
