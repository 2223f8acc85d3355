"""Reads of revisions and their terms: which revision is in force, effective objectives,
what a user may see (docs/DESIGN.md §3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from apps.agreements.models import Agreement
from apps.core.access import User
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


@dataclass(frozen=True)
class EffectiveObjective:
    """An objective that applies to an agreement, and where it came from."""

    objective: Objective
    agreement: Agreement  # the agreement whose revision defines it
    revision: Revision
    inherited: bool
    overrides: tuple[Objective, ...] = ()  # ancestor objectives with the same key it replaces

    @property
    def key(self) -> str:
        return self.objective.key


def effective_objectives(agreement: Agreement, on: date) -> list[EffectiveObjective]:
    """Objectives in force for ``agreement`` on ``on``: its own plus inherited ones.

    Walking service → customer → corporate, the nearest definition of a key
    wins; the ancestors' objectives it replaces are listed in ``overrides``.
    """
    return effective_objectives_many([agreement], on)[agreement.pk]


def effective_objectives_many(
    agreements: list[Agreement], on: date
) -> dict[int, list[EffectiveObjective]]:
    """effective_objectives for many agreements in three queries, whatever their number."""
    tree = {
        pk: (parent, accept)
        for pk, parent, accept in Agreement.objects.values_list(
            "pk", "parent_id", "requires_acceptance"
        )
    }
    chains: dict[int, list[int]] = {}
    for agreement in agreements:
        chain: list[int] = []
        current: int | None = agreement.pk
        while current is not None and current not in chain:
            chain.append(current)
            current = tree.get(current, (None, True))[0]
        chains[agreement.pk] = chain
    involved = {pk for chain in chains.values() for pk in chain}
    in_force: dict[int, Revision] = {}
    candidates = (
        Revision.objects.filter(
            agreement_id__in=involved, approved_at__isnull=False, effective_from__lte=on
        )
        .select_related("agreement")
        .order_by("agreement_id", "-number")
    )
    for revision in candidates:
        needs_acceptance = tree[revision.agreement_id][1]
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
        found: dict[str, EffectiveObjective] = {}
        for depth, pk in enumerate(chains[agreement.pk]):
            binding = in_force.get(pk)
            if binding is None:
                continue
            for objective in objectives.get(binding.pk, []):
                winner = found.get(objective.key)
                if winner is None:
                    found[objective.key] = EffectiveObjective(
                        objective, binding.agreement, binding, inherited=depth > 0
                    )
                else:
                    found[objective.key] = EffectiveObjective(
                        winner.objective,
                        winner.agreement,
                        winner.revision,
                        winner.inherited,
                        (*winner.overrides, objective),
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
    """The calendars a customer's visible objectives use (registered with apps.calendars)."""
    return objective_list_visible(user).exclude(calendar=None).values("calendar_id")


def credit_tiers_by_revision(revision_ids: Iterable[int]) -> dict[int, list[CreditTier]]:
    """All tiers (objective-specific and revision-wide) of the given revisions, by revision id."""
    found: dict[int, list[CreditTier]] = defaultdict(list)
    for tier in CreditTier.objects.filter(revision_id__in=set(revision_ids)):
        found[tier.revision_id].append(tier)
    return dict(found)
