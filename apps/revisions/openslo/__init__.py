"""SLO-as-code: an agreement's objectives in force as OpenSLO v1 documents, and back.

OpenSLO (github.com/OpenSLO/OpenSLO, the v1 ``README.md``) describes an SLO by an
indicator (SLI), a time window, a budgeting method and a target. Our objectives
map onto it like this (``export``; ``importing`` reads the same shape back):

==========================  ===============================================================
our objective               OpenSLO v1
==========================  ===============================================================
availability                ``ratioMetric``: good = working seconds of the service window
                            without downtime, total = working seconds of the window;
                            ``budgetingMethod: Occurrences`` (the events are seconds)
first_contact_resolution,   ``ratioMetric`` (good / total tickets), ``Occurrences``
closure_rate
response_time,              ``thresholdMetric`` (the clock time of each ticket) with
resolution_time             ``op: lte``, ``value: <threshold seconds>``; target = share of
                            tickets within it; ``Occurrences`` (the events are tickets)
turnaround / sample with    ``thresholdMetric``; ``pNN ≤ v`` is "at least NN % of items
a percentile (p50 … p99)    ≤ v" (``op: lte``, ``target: 0.NN``), ``pNN ≥ v`` is "at least
                            (100 − NN) % of items ≥ v" (``op: gte``)
period month / quarter      ``timeWindow: [{duration: 1M | 1Q, calendar: {startTime,
                            timeZone}, isRolling: false}]``, aligned to the revision's
                            ``effective_from`` in the timezone of the objective's calendar
target (percent)            ``target`` (a fraction, below 1)
==========================  ===============================================================

What OpenSLO has no field for is kept as ``metadata.annotations`` under the prefix
``sla-portal/`` (the exact key, metric and target, the business-hours calendar
and where it comes from, service, priority, agreement, revision, credit tiers),
so an export read back by ``openslo_import`` gives the same objective. Objectives
OpenSLO cannot express at all (a target of 100 % — OpenSLO targets lie below 1 —,
"at most" on a percentage, mean/min/max/sum/count aggregates) are left out of the
export and named in a comment at its top.
"""

PREFIX = "sla-portal/"
API_VERSION = "openslo/v1"
SOURCE_TYPE = "sla-portal"  # metricSource.type of the indicators we describe
DURATIONS = {"month": "1M", "quarter": "1Q"}
PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}
