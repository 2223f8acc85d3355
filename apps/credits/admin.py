"""Credit tiers are edited inline on their revision (see apps.revisions.admin)."""
