"""Reads of revisions: which one is in force, effective objectives, visibility."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_chain
from apps.parties.selectors import User, party_ids_visible_to
from apps.revisions.models import Revision, RevisionStatus


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

    objective: object  # apps.metrics.models.Objective
    agreement: Agreement  # the agreement whose revision defines it
    revision: Revision
    inherited: bool
    overrides: tuple[object, ...] = ()  # ancestor objectives with the same key it replaces

    @property
    def key(self) -> str:
        return self.objective.key


def effective_objectives(agreement: Agreement, on: date) -> list[EffectiveObjective]:
    """Objectives in force for ``agreement`` on ``on``: its own plus inherited ones.

    Walking service → customer → corporate, the nearest definition of a key
    wins; the ancestors' objectives it replaces are listed in ``overrides``.
    """
    found: dict[str, EffectiveObjective] = {}
    for depth, current in enumerate(agreement_chain(agreement)):
        revision = revision_in_force(current, on)
        if revision is None:
            continue
        for objective in revision.objectives.select_related("calendar", "service"):
            if objective.key in found:
                winner = found[objective.key]
                found[objective.key] = EffectiveObjective(
                    winner.objective,
                    winner.agreement,
                    winner.revision,
                    winner.inherited,
                    (*winner.overrides, objective),
                )
            else:
                found[objective.key] = EffectiveObjective(
                    objective, current, revision, inherited=depth > 0
                )
    return [found[key] for key in sorted(found)]


def revision_list_visible(user: User) -> QuerySet[Revision]:
    """Provider staff see every revision; customers see non-draft revisions of their agreements."""
    queryset = Revision.objects.select_related("agreement", "approved_by", "accepted_by")
    visible = party_ids_visible_to(user)
    if visible is None:
        return queryset
    return queryset.filter(agreement__customer_id__in=visible).exclude(status=RevisionStatus.DRAFT)
