"""The portal's notices: only the user's parties', newest first, in the reader's language."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from apps.agreements.selectors import agreement_list_visible
from apps.notifications.detection import notices_detect
from apps.notifications.selectors import notices_for
from tests.notifications.conftest import NOW, at_risk_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(world):
    at_risk_result(world)
    type(world.agreement_y).objects.filter(pk=world.agreement_y.pk).update(
        next_review_on=NOW.date()
    )
    notices_detect()
    return world


def references(user, limit: int = 10) -> list[str]:
    return [
        item.agreement.reference
        for item in notices_for(user, agreement_list_visible(user), limit=limit)
    ]


def test_each_customer_sees_only_its_own_notices(told):
    world = told
    assert references(world.customer_x) == [world.agreement_x.reference]
    assert references(world.customer_y) == [world.agreement_y.reference]
    assert sorted(references(world.manager)) == sorted(
        [world.agreement_x.reference, world.agreement_y.reference]
    )
    assert len(references(world.manager, limit=1)) == 1


def test_the_callers_agreement_scope_is_respected_even_for_a_wider_list(told):
    world = told
    # Customer X is handed Y's agreement by mistake: the party filter still holds.
    items = notices_for(world.customer_x, [world.agreement_x, world.agreement_y])
    assert [i.agreement.reference for i in items] == [world.agreement_x.reference]
    # Staff narrowed to one agreement (the portal's "view as") see just that one.
    items = notices_for(world.manager, [world.agreement_y])
    assert [i.kind for i in items] == ["review_due"]


def test_the_snippet_renders_the_notices_with_links(told):
    world = told
    items = notices_for(world.customer_x, agreement_list_visible(world.customer_x))
    html = render_to_string("notifications/_notices.html", {"notices": items})
    assert f'href="/agreements/{world.agreement_x.pk}/periods/2026-10/"' in html
    assert "at risk in 2026-10" in html and 'class="badge at_risk"' in html
    assert render_to_string("notifications/_notices.html", {"notices": []}).strip() == ""


def test_texts_follow_the_readers_language_for_numbers(told):
    world = told
    with translation.override("de"):
        [item] = notices_for(world.customer_x, agreement_list_visible(world.customer_x))
    assert "99,5 %" in item.text  # German decimals, from the stored facts
    [item] = notices_for(world.customer_x, agreement_list_visible(world.customer_x))
    assert "99.5 %" in item.text


def test_the_portal_shows_each_customer_its_own_notices(told, client_a):
    from tests.conftest import sign_in

    world = told
    sign_in(client_a, world.customer_x.username)
    overview = client_a.get("/").text
    agreement = client_a.get(f"/agreements/{world.agreement_x.pk}/").text

    for page in (overview, agreement):
        assert "Notices" in page and "at risk in 2026-10" in page
        assert world.agreement_y.reference not in page  # Y's review-due notice stays Y's
