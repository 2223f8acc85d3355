"""The range of a what-if as a form, and the what-if it asks for (the admin's tool and the
portal's page share both)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from apps.calendars.periods import Period
from apps.core.access import ActingUser
from apps.credits.whatif import WhatIf, last_finished_months, revision_what_if, what_if_range
from apps.revisions.models import Revision


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


def what_if_from_query(
    *, revision: Revision, query: QueryDict, today: Any, acting_user: ActingUser
) -> tuple[WhatIfRangeForm, WhatIf | None]:
    """The range form for ``?from=&to=`` (default: the last finished months before
    ``today``) and, when it is valid, the what-if of ``revision`` over it."""
    form = WhatIfRangeForm(query, default=last_finished_months(today))
    chosen = form.chosen()
    if chosen is None:
        return form, None
    first, last = chosen
    return form, revision_what_if(
        revision=revision, first=first, last=last, acting_user=acting_user
    )
