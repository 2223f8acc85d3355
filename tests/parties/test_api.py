"""/api/v1/parties/: a party still referred to cannot be deleted, and the API says why."""

from __future__ import annotations


def test_deleting_a_party_in_use_is_a_clear_400(world_a, manager_api):
    response = manager_api.delete(f"/api/v1/parties/{world_a.party_x.pk}/")
    assert response.status_code == 400
    assert "Still referred to" in str(response.json())
