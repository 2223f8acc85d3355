"""POST /api/v1/agreements/{id}/evaluate/: settle one agreement for a period (provider staff)."""

from __future__ import annotations

import time_machine

from tests.support.engine import client_for


@time_machine.travel("2026-11-15T10:00:00+00:00", tick=False)  # April 2026 is over
def test_evaluate_returns_the_contract_shape(bound):
    manager = client_for(bound.world.manager)

    response = manager.post(
        f"/api/v1/agreements/{bound.agreement.pk}/evaluate/", {"period": "2026-04"}, format="json"
    )

    assert response.status_code == 200, response.content
    by_key = {r["key"]: r for r in response.json()}
    availability = by_key["availability"]
    for name in (
        "objective",
        "key",
        "metric",
        "period",
        "target",
        "attained",
        "status",
        "data_points",
        "revision",
    ):
        assert name in availability
    assert availability["status"] == "missed" and availability["period"] == "2026-04"
    assert availability["revision"] == bound.revision.pk
    assert by_key["response"]["status"] == "no_data"


def test_evaluate_is_for_provider_staff_and_validates_the_period(bound):
    customer = client_for(bound.world.customer_x)
    manager = client_for(bound.world.manager)
    url = f"/api/v1/agreements/{bound.agreement.pk}/evaluate/"

    assert customer.post(url, {"period": "2026-04"}, format="json").status_code == 403
    for bad in ("2026-13", "2026-Q5", "April", ""):
        response = manager.post(url, {"period": bad}, format="json")
        assert response.status_code == 400 and "period" in response.json(), bad
