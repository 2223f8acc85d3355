"""Who may see what: the party tree and a user's reach in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from apps.core.access import Account, ActingUser, User, is_provider_staff
from apps.core.memo import memoized
from apps.parties.models import Membership, MembershipRole, Party, PartyKind


def party_children_map() -> dict[int | None, list[int]]:
    """Each party's children, by parent id (None: the roots); one query, once per request.

    Read it, never change it: within a request every caller shares the same map."""
    return memoized(("party children",), _children_map)


def _children_map() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Party.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    return dict(children)


def party_descendant_ids(
    roots: Iterable[int],
    include_self: bool = True,
    children: dict[int | None, list[int]] | None = None,
) -> set[int]:
    """The ids of the given parties and everything below them.

    Pass ``children`` (from ``party_children_map()``) to answer many questions
    with one query.
    """
    children = children if children is not None else party_children_map()
    found: set[int] = set()
    stack = list(roots)
    if not include_self:
        stack = [child for root in stack for child in children.get(root, [])]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def is_provider_manager(user: ActingUser) -> bool:
    """May approve revisions and credits: a superuser or a manager of a provider party."""
    if not isinstance(user, Account) or not is_provider_staff(user):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, role=MembershipRole.MANAGER, party__kind=PartyKind.PROVIDER
    ).exists()


def party_ids_visible_to(user: ActingUser) -> set[int] | None:
    """Parties whose data the user may see; None means all (provider staff).

    Once per request (apps.core.memo): a portal page asks several times."""
    if not isinstance(user, Account) or not user.is_authenticated:
        return set()
    if is_provider_staff(user):
        return None
    found = memoized(("parties visible to", user.pk), lambda: frozenset(_reach(user)))
    return set(found)


def party_ids_managed_by(user: ActingUser) -> set[int]:
    """Parties (with descendants) for which the user holds the manager role."""
    if not isinstance(user, Account) or not user.is_authenticated:
        return set()
    found = memoized(
        ("parties managed by", user.pk),
        lambda: frozenset(_reach(user, role=MembershipRole.MANAGER)),
    )
    return set(found)


def _reach(user: Account, role: str | None = None) -> set[int]:
    memberships = Membership.objects.filter(user=user)
    if role is not None:
        memberships = memberships.filter(role=role)
    return party_descendant_ids(memberships.values_list("party_id", flat=True))


def party_list_visible(user: User) -> QuerySet[Party]:
    visible = party_ids_visible_to(user)
    queryset = Party.objects.select_related("parent")
    return queryset if visible is None else queryset.filter(pk__in=visible)
