"""Customer-facing pages; every object is found through apps.portal.access (others: 404)."""
