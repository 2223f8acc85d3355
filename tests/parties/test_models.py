"""Parties: which kind may belong to which, and no party is its own ancestor."""

import pytest
from django.core.exceptions import ValidationError

from apps.parties.models import Party, PartyKind
from apps.parties.services import party_save


def test_party_hierarchy_rules(world):
    group = party_save(acting_user=world.admin, name="Group", kind=PartyKind.CUSTOMER)
    subsidiary = party_save(
        acting_user=world.admin, name="Sub", kind=PartyKind.CUSTOMER, parent=group
    )
    department = party_save(
        acting_user=world.admin, name="Finance", kind=PartyKind.INTERNAL, parent=world.provider
    )
    assert subsidiary.parent == group and department.parent == world.provider

    with pytest.raises(ValidationError, match="cannot belong"):
        party_save(acting_user=world.admin, name="Odd", kind=PartyKind.INTERNAL, parent=group)
    with pytest.raises(ValidationError, match="cannot belong"):
        party_save(
            acting_user=world.admin, name="Odd2", kind=PartyKind.CUSTOMER, parent=world.provider
        )
    assert not Party.objects.filter(name__startswith="Odd").exists()


def test_party_cycles_are_refused(world):
    a = party_save(acting_user=world.admin, name="A", kind=PartyKind.CUSTOMER)
    b = party_save(acting_user=world.admin, name="B", kind=PartyKind.CUSTOMER, parent=a)
    c = party_save(acting_user=world.admin, name="C", kind=PartyKind.CUSTOMER, parent=b)

    with pytest.raises(ValidationError, match="own ancestor"):
        party_save(party=a, acting_user=world.admin, parent=c)
    with pytest.raises(ValidationError, match="own ancestor"):
        party_save(party=a, acting_user=world.admin, parent=a)
    assert Party.objects.get(pk=a.pk).parent is None
