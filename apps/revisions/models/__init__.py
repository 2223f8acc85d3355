"""A revision and its terms: text sections, objectives and credit tiers."""

from apps.revisions.models.credit_tier import CreditTier
from apps.revisions.models.objective import (
    OBJECTIVE_TERMS,
    PERCENT_METRICS,
    THRESHOLD_METRICS,
    TURNAROUND_AGGREGATES,
    Aggregate,
    Comparison,
    Metric,
    Objective,
    PeriodKind,
)
from apps.revisions.models.revision import (
    LIFECYCLE_FIELDS,
    LockedWithRevision,
    Revision,
    RevisionLockedError,
    RevisionSection,
    RevisionStatus,
    SectionKey,
)

__all__ = [
    "LIFECYCLE_FIELDS",
    "OBJECTIVE_TERMS",
    "PERCENT_METRICS",
    "THRESHOLD_METRICS",
    "TURNAROUND_AGGREGATES",
    "Aggregate",
    "Comparison",
    "CreditTier",
    "LockedWithRevision",
    "Metric",
    "Objective",
    "PeriodKind",
    "Revision",
    "RevisionLockedError",
    "RevisionSection",
    "RevisionStatus",
    "SectionKey",
]
