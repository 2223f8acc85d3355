"""The diff between two revisions: text per section, objectives and tiers added/removed/changed."""

from datetime import date
from decimal import Decimal

from apps.revisions.diff import revision_diff
from apps.revisions.models import CreditTier, Metric
from apps.revisions.services import (
    credit_tier_save,
    objective_delete,
    objective_save,
    revision_approve,
    revision_new_draft,
    revision_update,
)


def test_diff_reports_every_kind_of_change(world):
    revision_update_sections = {"overview": "Line one.\nLine two.", "escalation": "Call us."}
    # Revision 1 is approved: give the draft the "old" text first via a second draft.
    base = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    revision_update(revision=base, acting_user=world.manager, sections=revision_update_sections)
    objective_save(
        acting_user=world.manager,
        revision=base,
        key="closure",
        metric=Metric.CLOSURE_RATE,
        target=Decimal(90),
    )
    revision_approve(revision=base, acting_user=world.manager)
    new = revision_new_draft(
        revision=base, acting_user=world.manager, effective_from=date(2026, 3, 1)
    )
    revision_update(
        revision=new,
        acting_user=world.manager,
        credit_cap_percent=Decimal("50"),
        sections={"overview": "Line one.\nLine 2, reworded.", "reporting": "Monthly report."},
    )
    availability = new.objectives.get(key="availability")
    objective_save(objective=availability, acting_user=world.manager, target=Decimal("99.95"))
    objective_delete(objective=new.objectives.get(key="closure"), acting_user=world.manager)
    objective_save(
        acting_user=world.manager,
        revision=new,
        key="fcr",
        metric=Metric.FIRST_CONTACT_RESOLUTION,
        target=Decimal(70),
    )
    tier = CreditTier.objects.get(revision=new)
    credit_tier_save(tier=tier, acting_user=world.manager, percent=Decimal("15"))
    credit_tier_save(
        acting_user=world.manager,
        revision=new,
        objective=None,
        below=Decimal("95"),
        percent=Decimal("5"),
    )

    diff = revision_diff(base, new).as_dict()

    assert diff["from"]["number"] == 2 and diff["to"]["number"] == 3
    assert diff["fields"]["credit_cap_percent"] == {"old": "100", "new": "50"}
    assert diff["fields"]["effective_from"] == {"old": "2026-02-01", "new": "2026-03-01"}
    sections = {s["key"]: s for s in diff["sections"]}
    assert sections["overview"]["status"] == "changed"
    assert "-Line two." in sections["overview"]["lines"]
    assert "+Line 2, reworded." in sections["overview"]["lines"]
    assert sections["reporting"]["status"] == "added"
    assert sections["escalation"]["status"] == "removed"
    objectives = diff["objectives"]
    assert [o["key"] for o in objectives["added"]] == ["fcr"]
    assert [o["key"] for o in objectives["removed"]] == ["closure"]
    assert objectives["changed"] == [
        {"key": "availability", "changes": {"target": {"old": "99.9", "new": "99.95"}}}
    ]
    tiers = diff["credit_tiers"]
    assert tiers["added"] == [{"tier": "* < 95", "objective": None, "below": "95", "percent": "5"}]
    assert tiers["changed"] == [
        {"tier": "availability < 99.9", "changes": {"percent": {"old": "10", "new": "15"}}}
    ]
    assert tiers["removed"] == []


def test_identical_revisions_have_an_empty_diff(world):
    draft = revision_new_draft(
        revision=world.revision_x,
        acting_user=world.manager,
        effective_from=world.revision_x.effective_from,
    )
    diff = revision_diff(world.revision_x, draft)

    assert diff.fields == {}
    assert diff.objectives.is_empty and diff.credit_tiers.is_empty
    assert all(section.status == "unchanged" for section in diff.sections)
