"""Everything a page loads comes from our own static files: no CDN, no ``@latest``."""

from __future__ import annotations

import re

from tests.conftest import sign_in


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_portal_pages_and_the_api_docs_load_only_our_own_files(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    for url in ("/", f"/agreements/{portal.agreement.pk}/", "/api/docs/"):
        html = client_a.get(url).text
        assets = [
            ref for ref in _references(html) if re.search(r"\.(css|js|png|woff2?)(\?|$)", ref)
        ]
        assert assets, url
        assert all(ref.startswith("/static/") for ref in assets), (url, assets)
        assert "@latest" not in html and "cdn" not in html.lower(), url
    assert client_a.get("/static/css/portal.css").status_code == 200
