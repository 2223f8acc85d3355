"""Forms of the credits app: the range of a what-if and the what-if it asks for (the admin's
tool and the portal's page share both), and the admin's "Resolve dispute" form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from apps.calendars.periods import Period
from apps.core.access import ActingUser
from apps.core.money import format_money_local, money_text
from apps.credits.calculation import cap_amount
from apps.credits.models import ServiceCredit
from apps.credits.transitions import credit_resolve
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


# --- the admin's "Resolve dispute" -----------------------------------------------------

# ASCII digits only: ``Decimal()`` reads "١٢" as 12, and "1e3", "NaN" and "Infinity" are
# numbers to it too. A sign is let through so that the service, which owns the range
# (0 … the period's cap), says what is wrong with a negative amount.
AMOUNT_TEXT = re.compile(r"-?[0-9]{1,32}(?:\.[0-9]{1,32})?")


class AmountField(forms.DecimalField):
    """An amount typed by a person: ASCII digits with an optional decimal point."""

    default_error_messages = {
        "invalid": "Give the amount in digits with a decimal point, e.g. 1200.00.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 16}))
        super().__init__(max_digits=14, decimal_places=3, **kwargs)

    def to_python(self, value: Any) -> Any:  # Decimal | None (the stubs say int for Decimal)
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not AMOUNT_TEXT.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


class CreditResolveForm(forms.Form):
    """What a provider manager agreed with the customer about a disputed credit.

    The form checks shapes only (text, a number in digits); the rules (a resolution is
    required, the amount lies between 0 and the period's cap in the currency's minor unit,
    who may resolve, from which status) are ``credit_resolve``'s, and its messages land
    on the field they name."""

    resolution = forms.CharField(
        label="Resolution",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="How the dispute was resolved; the customer sees this with the credit.",
    )
    amount = AmountField(label="Agreed amount", required=False)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Optional; recorded with the step in the credit's history.",
    )

    def __init__(self, data: QueryDict | None = None, *, credit: ServiceCredit) -> None:
        super().__init__(data, initial={"amount": money_text(credit.amount, credit.currency)})
        self.credit = credit
        cap = cap_amount(
            fee_basis=credit.fee_basis, cap_percent=credit.cap_percent, currency=credit.currency
        )
        self.fields["amount"].help_text = (
            f"In {credit.currency}, from 0 up to the period's cap of "
            f"{format_money_local(cap, credit.currency)}; blank keeps the amount."
        )

    def resolve(self, *, acting_user: ActingUser) -> ServiceCredit | None:
        """Resolve the credit through ``credit_resolve``; the credit, or None when the form
        or the service refused (the reasons are then the form's errors). PermissionDenied
        is not caught: the caller answers it with 403."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return credit_resolve(
                credit=self.credit,
                acting_user=acting_user,
                resolution=data["resolution"],
                amount=data["amount"],
                note=data["note"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
            else:
                self.add_error(None, exc.messages)
            return None
