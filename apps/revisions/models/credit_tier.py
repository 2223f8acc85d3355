"""Credit tiers: how much of the monthly fee a missed objective earns (docs/DESIGN.md §6)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.revisions.models.objective import Objective
from apps.revisions.models.revision import LockedWithRevision, Revision


class CreditTier(LockedWithRevision):
    """Attainment below ``below`` earns ``percent`` of the monthly fee.

    With an objective it applies to that objective; without one it applies to
    every objective of the revision that has no tiers of its own. For a missed
    objective the matching tier with the lowest ``below`` wins.
    """

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="credit_tiers")
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="credit_tiers"
    )
    below = models.DecimalField(max_digits=14, decimal_places=4)
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["revision", "objective", "-below"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "objective", "below"],
                name="credit_tier_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        scope = self.objective.key if self.objective else "any objective"
        return f"{scope}: below {self.below.normalize():f} → {self.percent.normalize():f} %"

    def clean(self) -> None:
        if (
            self.objective is not None
            and self.revision_id
            and self.objective.revision_id != self.revision_id
        ):
            raise ValidationError({"objective": "The objective belongs to another revision."})
