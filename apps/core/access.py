"""Who is acting: the user types every service takes, and the one staff rule they share.

A service's ``acting_user`` is a signed-in user, an anonymous one (a request that
was not authenticated), or ``None`` for the system itself (a scheduled job, a
management command). Rules about parties (who manages which customer) live in
``apps.parties.selectors``; only the provider-staff test is this low, because
the API's base permission needs it.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as Account

User: TypeAlias = Account | AnonymousUser
ActingUser: TypeAlias = Account | AnonymousUser | None


def is_provider_staff(user: ActingUser) -> bool:
    """Provider staff see and edit everything in their tenant (``is_staff``, active)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def signed_in(user: ActingUser) -> Account | None:
    """The user when signed in, else None: what history rows and events record as 'by'."""
    if isinstance(user, Account) and user.is_authenticated:
        return user
    return None
