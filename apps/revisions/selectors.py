"""Reads of revisions and their terms: which revision is in force, effective objectives and
the calendar each one's clock runs in, what a user may see (docs/DESIGN.md §3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, Q, QuerySet
from django.utils.translation import gettext as _

from apps.agreements.models import Agreement
from apps.calendars.models import Calendar
from apps.core.access import User
from apps.core.memo import memoized
from apps.parties.selectors import party_ids_visible_to
from apps.revisions.models import CreditTier, Objective, Revision, RevisionStatus


def revision_in_force(agreement: Agreement, on: date) -> Revision | None:
    """The binding revision with the latest number whose ``effective_from`` is on or before ``on``.

    A superseded revision still governs the periods before its successor's
    ``effective_from``; a revision awaiting customer acceptance governs nothing yet.
    """
    candidates = agreement.revisions.filter(approved_at__isnull=False, effective_from__lte=on)
    if agreement.requires_acceptance:
        candidates = candidates.filter(accepted_at__isnull=False)
    return candidates.order_by("-number").first()


# --- the calendar of an objective: objective → agreement (→ its parents) → tenant default ---

FROM_OBJECTIVE, FROM_AGREEMENT, FROM_DEFAULT, FROM_NOWHERE = (
    "objective",
    "agreement",
    "default",
    "none",
)


@dataclass(frozen=True)
class ChainLink:
    """An agreement of a chain (the agreement looked at, then its parent, …) and its calendar."""

    reference: str
    calendar: Calendar | None


@dataclass(frozen=True)
class ResolvedCalendar:
    """The calendar an objective's clock runs in, and where that comes from."""

    calendar: Calendar | None  # None: 24×7 in the tenant's timezone
    source: str  # FROM_OBJECTIVE | FROM_AGREEMENT | FROM_DEFAULT | FROM_NOWHERE
    agreement: str = ""  # reference of the agreement whose calendar it is (FROM_AGREEMENT)
    inherited: bool = False  # that agreement is a parent of the one looked at

    @property
    def name(self) -> str:
        return self.calendar.name if self.calendar is not None else _("24×7")

    @property
    def source_text(self) -> str:
        if self.source == FROM_OBJECTIVE:
            return _("set on the objective")
        if self.source == FROM_AGREEMENT:
            if self.inherited:
                return _("from agreement %(reference)s") % {"reference": self.agreement}
            return _("from the agreement")
        if self.source == FROM_DEFAULT:
            return _("the default calendar")
        return _("no calendar anywhere: all hours count, in the tenant's timezone")

    @property
    def label(self) -> str:
        """E.g. "Berlin office — from the agreement"."""
        return f"{self.name} — {self.source_text}"


def resolve_calendar(
    objective: Objective, chain: Sequence[ChainLink], default: Calendar | None
) -> ResolvedCalendar:
    """The one rule (docs/DESIGN.md §3): the most specific calendar wins.

    The objective's own calendar; else the calendar of the agreement looked at, else of
    its parent, grandparent (``chain``, nearest first); else the tenant's default
    calendar; else none (24×7 in the tenant's timezone).
    """
    if objective.calendar_id is not None:
        return ResolvedCalendar(objective.calendar, FROM_OBJECTIVE)
    for depth, link in enumerate(chain):
        if link.calendar is not None:
            return ResolvedCalendar(link.calendar, FROM_AGREEMENT, link.reference, depth > 0)
    if default is not None:
        return ResolvedCalendar(default, FROM_DEFAULT)
    return ResolvedCalendar(None, FROM_NOWHERE)


NO_CALENDAR = ResolvedCalendar(None, FROM_NOWHERE)


@dataclass(frozen=True)
class EffectiveObjective:
    """An objective that applies to an agreement, where it came from, and its calendar."""

    objective: Objective
    agreement: Agreement  # the agreement whose revision defines it
    revision: Revision
    inherited: bool
    overrides: tuple[Objective, ...] = ()  # ancestor objectives with the same key it replaces
    calendar: ResolvedCalendar = NO_CALENDAR  # set by effective_objectives_many

    @property
    def key(self) -> str:
        return self.objective.key


def effective_objectives(agreement: Agreement, on: date) -> list[EffectiveObjective]:
    """Objectives in force for ``agreement`` on ``on``: its own plus inherited ones.

    Walking service → customer → corporate, the nearest definition of a key
    wins; the ancestors' objectives it replaces are listed in ``overrides``.
    """
    return effective_objectives_many([agreement], on)[agreement.pk]


@dataclass(frozen=True)
class _Node:
    parent: int | None
    requires_acceptance: bool
    reference: str
    calendar: int | None


def _calendars(
    tree: Mapping[int, _Node], involved: set[int]
) -> tuple[dict[int, Calendar], Calendar | None]:
    """The calendars of the involved agreements, and the tenant's default: one query."""
    wanted = {tree[pk].calendar for pk in involved if pk in tree} - {None}
    found = {
        calendar.pk: calendar
        for calendar in Calendar.objects.filter(Q(pk__in=wanted) | Q(is_default=True))
    }
    default = next((c for c in found.values() if c.is_default), None)
    return found, default


def effective_objectives_many(
    agreements: list[Agreement], on: date, *, assume: Revision | None = None
) -> dict[int, list[EffectiveObjective]]:
    """effective_objectives for many agreements in four queries, whatever their number;
    within a read-only request once per (agreements, day) and the agreement tree and
    calendars once (apps.core.memo).

    ``assume``: a revision (of any status) to treat as the one in force for its
    agreement, whatever its ``effective_from`` — what a what-if evaluates.
    """
    if assume is not None:
        return _effective_objectives_many(agreements, on, assume)
    key = ("effective objectives", tuple(sorted(a.pk for a in agreements)), on)
    found = memoized(key, lambda: _effective_objectives_many(agreements, on, None))
    return {pk: list(items) for pk, items in found.items()}


def _agreement_tree() -> dict[int, _Node]:
    return {
        pk: _Node(parent, accept, reference, calendar)
        for pk, parent, accept, reference, calendar in Agreement.objects.values_list(
            "pk", "parent_id", "requires_acceptance", "reference", "calendar_id"
        )
    }


def _effective_objectives_many(
    agreements: list[Agreement], on: date, assume: Revision | None
) -> dict[int, list[EffectiveObjective]]:
    tree = memoized(("agreement tree",), _agreement_tree)
    chains: dict[int, list[int]] = {}
    for agreement in agreements:
        chain: list[int] = []
        current: int | None = agreement.pk
        while current is not None and current not in chain:
            chain.append(current)
            node = tree.get(current)
            current = node.parent if node is not None else None
        chains[agreement.pk] = chain
    involved = {pk for chain in chains.values() for pk in chain}
    calendars, default = memoized(
        ("calendars of", frozenset(involved)), lambda: _calendars(tree, involved)
    )
    in_force: dict[int, Revision] = {}
    if assume is not None:
        in_force[assume.agreement_id] = assume
    candidates = (
        Revision.objects.filter(
            agreement_id__in=involved, approved_at__isnull=False, effective_from__lte=on
        )
        .select_related("agreement")
        .order_by("agreement_id", "-number")
    )
    for revision in candidates:
        needs_acceptance = tree[revision.agreement_id].requires_acceptance
        if revision.agreement_id in in_force or (needs_acceptance and not revision.accepted_at):
            continue
        in_force[revision.agreement_id] = revision
    objectives: dict[int, list[Objective]] = {}
    for objective in (
        Objective.objects.filter(revision__in=[r.pk for r in in_force.values()])
        .select_related("calendar", "service")
        .order_by("key")
    ):
        objectives.setdefault(objective.revision_id, []).append(objective)
    result: dict[int, list[EffectiveObjective]] = {}
    for agreement in agreements:
        links = [
            ChainLink(tree[pk].reference, calendars.get(tree[pk].calendar or 0))
            for pk in chains[agreement.pk]
            if pk in tree
        ]
        found: dict[str, EffectiveObjective] = {}
        for depth, pk in enumerate(chains[agreement.pk]):
            binding = in_force.get(pk)
            if binding is None:
                continue
            for objective in objectives.get(binding.pk, []):
                winner = found.get(objective.key)
                if winner is None:
                    found[objective.key] = EffectiveObjective(
                        objective,
                        binding.agreement,
                        binding,
                        inherited=depth > 0,
                        calendar=resolve_calendar(objective, links, default),
                    )
                else:
                    found[objective.key] = EffectiveObjective(
                        winner.objective,
                        winner.agreement,
                        winner.revision,
                        winner.inherited,
                        (*winner.overrides, objective),
                        winner.calendar,
                    )
        result[agreement.pk] = [found[key] for key in sorted(found)]
    return result


def revision_list_visible(user: User) -> QuerySet[Revision]:
    """Provider staff see every revision; customers see non-draft revisions of their agreements."""
    queryset = Revision.objects.select_related("agreement", "approved_by", "accepted_by")
    visible = party_ids_visible_to(user)
    if visible is None:
        return queryset
    return queryset.filter(agreement__customer_id__in=visible).exclude(status=RevisionStatus.DRAFT)


def objective_list_visible(user: User) -> QuerySet[Objective]:
    """Objectives of the revisions the user may see."""
    return Objective.objects.select_related("revision", "calendar", "service").filter(
        revision__in=revision_list_visible(user).values("pk")
    )


def credit_tier_list_visible(user: User) -> QuerySet[CreditTier]:
    """Credit tiers of the revisions the user may see."""
    return CreditTier.objects.select_related("objective").filter(
        revision__in=revision_list_visible(user).values("pk")
    )


def calendar_ids_of_visible_objectives(user: User) -> QuerySet:
    """The calendars a customer's visible objectives may run in (registered with
    apps.calendars): their own, those of the customer's agreements and of the agreements
    above them, and the tenant's default calendar (the places resolve_calendar looks)."""
    visible = party_ids_visible_to(user)
    theirs = Agreement.objects.all()
    if visible is not None:
        theirs = theirs.filter(customer_id__in=visible)
    agreements = theirs.values("pk")
    own = objective_list_visible(user).exclude(calendar=None).values("calendar_id")
    return Calendar.objects.filter(
        Q(pk__in=own)
        | Q(agreements__in=agreements)
        | Q(agreements__children__in=agreements)
        | Q(agreements__children__children__in=agreements)
        | (Exists(agreements) & Q(is_default=True))
    ).values("pk")


def credit_tiers_by_revision(revision_ids: Iterable[int]) -> dict[int, list[CreditTier]]:
    """All tiers (objective-specific and revision-wide) of the given revisions, by revision id."""
    found: dict[int, list[CreditTier]] = defaultdict(list)
    for tier in CreditTier.objects.filter(revision_id__in=set(revision_ids)):
        found[tier.revision_id].append(tier)
    return dict(found)
