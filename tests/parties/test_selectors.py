"""party_ids_visible_to: a membership reaches the party and its descendants, nothing else."""

from apps.parties.models import PartyKind
from apps.parties.selectors import party_ids_visible_to
from apps.parties.services import party_save


def test_membership_reaches_descendants_only(world):
    sub = party_save(
        acting_user=world.admin, name="X Sub", kind=PartyKind.CUSTOMER, parent=world.party_x
    )
    visible = party_ids_visible_to(world.customer_x)

    assert {world.party_x.pk, sub.pk} <= visible
    assert world.party_y.pk not in visible and world.provider.pk not in visible
    assert party_ids_visible_to(world.manager) is None  # provider staff: everything
