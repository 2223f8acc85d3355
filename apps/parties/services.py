"""Writes to parties, contacts and memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from apps.core.services import instance_save
from apps.parties.models import Contact, Membership, MembershipRole, Party, Preference


def party_save(*, party: Party | None = None, acting_user: Any, **data: Any) -> Party:
    """Create or update a party; kind/parent rules and cycles are checked in Party.clean."""
    return instance_save(instance=party or Party(), acting_user=acting_user, data=data)


def contact_save(*, contact: Contact | None = None, acting_user: Any, **data: Any) -> Contact:
    return instance_save(instance=contact or Contact(), acting_user=acting_user, data=data)


@transaction.atomic
def membership_grant(
    *, user: Any, party: Party, role: str = MembershipRole.VIEWER, acting_user: Any
) -> Membership:
    membership = Membership.objects.filter(user=user, party=party).first() or Membership(
        user=user, party=party
    )
    return instance_save(instance=membership, acting_user=acting_user, data={"role": role})


DOMAIN_APPS = (
    "parties",
    "calendars",
    "agreements",
    "measurements",
    "integrations",
    "revisions",
    "compliance",
    "credits",
    "reports",
    "notifications",
)
PROVIDER_STAFF_GROUP = "Provider staff"


@transaction.atomic
def provider_staff_group_ensure() -> Group:
    """The group giving provider staff every permission on the domain models in the admin."""
    group, _ = Group.objects.get_or_create(name=PROVIDER_STAFF_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS))
    return group


def preference_set_language(*, user: Any, language: str) -> Preference:
    """Remember the user's language ("" = follow the browser)."""
    preference, _ = Preference.objects.get_or_create(user=user)
    preference.language = language
    preference.full_clean()
    preference.save(update_fields=["language"])
    return preference
