"""Notifications: changes of state told to a customer's escalation contacts, once.

Flow (every 15 minutes per tenant, ``notifications.detect_and_dispatch``)
========================================================================

1. **Detect** (``detection.notices_detect``) reads the *current state* and
   inserts a ``Notice`` per (kind, subject, period, state) — the dedupe key, a
   UNIQUE constraint, written with ``INSERT … ON CONFLICT DO NOTHING``. A repeat
   or a concurrent run inserts nothing; a missed run is caught up by the next.

   ==============================  =====================================  ===========  ==========
   kind                            subject (the object)                   period       state
   ==============================  =====================================  ===========  ==========
   objective_at_risk               ``objective:<agreement id>:<key>``     ``2026-10``  at_risk
   objective_missed                ``objective:<agreement id>:<key>``     ``2026-10``  missed
   credit_calculated               ``credit:<credit id>``                 ``2026-10``  calculated
   dispute_opened                  ``credit:<credit id>``                 ``2026-10``  disputed
   dispute_resolved                ``credit:<credit id>``                 ``2026-10``  resolved
   revision_awaiting_acceptance    ``revision:<revision id>``             ``""``       approved
   review_due                      ``agreement:<agreement id>``           next review  due
   ==============================  =====================================  ===========  ==========

   At risk = a pending result of a still open period with a negative margin
   (the portal's ``Cell.at_risk``). Standing conditions (at risk, awaiting
   acceptance, review due) are noticed while they hold, for agreements that are
   not terminated; events (missed, credit calculated, dispute opened/resolved)
   only within ``LOOKBACK`` (7 days) of happening, so installing the app on a
   tenant with years of history does not mail all of it. A new review date
   (after a review is recorded) is a new period, so each review cycle is told.

2. **Plan** (``services.deliveries_plan``): for each notice not yet planned, a
   ``Delivery`` per channel and target — e-mail to every contact with role
   *escalation*, webhook to every active ``WebhookEndpoint`` — of the notice's
   party (the agreement's customer) **and of its ancestors up to, not
   including, a provider party**: the same reach as "who may see what" (a
   member of a group sees its subsidiaries' data), so a group's central
   escalation contact hears of its subsidiaries, and no party that could not
   see the data ever does. A target reached twice gets one delivery
   (unique notice × channel × target).

3. **Dispatch** (``delivery.dispatch_due``): deliveries whose
   ``next_attempt_at`` has come are *claimed* in a short transaction
   (``SELECT … FOR UPDATE SKIP LOCKED``, status ``sending``, a claim token and
   a lease), committed, then sent with no transaction open; the outcome is
   recorded only if the claim is still ours. A failure (non-2xx, connection
   error, SMTP error) is retried with exponential backoff — 1, 2, 4 … minutes,
   at most 6 h apart — and given up after 10 attempts. A worker that dies
   mid-send leaves a claim whose lease lapses; the next dispatch takes it over.
   Delivery is therefore at least once on the wire: receivers deduplicate on
   ``X-SLA-Delivery``.

The portal shows the same notices (``selectors.notices_for`` and the template
``notifications/_notices.html``), in the reader's language.

Webhooks
========

``POST <endpoint url>`` with ``Content-Type: application/json`` and::

    X-SLA-Event: objective_missed            (the kind; "test" for a test event)
    X-SLA-Delivery: 314                      (this delivery; the same on every retry)
    X-SLA-Timestamp: 1793491200              (Unix seconds of this attempt)
    X-SLA-Signature: sha256=<hex>            (HMAC-SHA256, key = the endpoint's secret,
                                              message = "<timestamp>." + raw body bytes)

The timestamp is part of the signed message so that a receiver can refuse a
replayed request (``signing.signature_verify`` rejects anything older than 5
minutes). Verify against the raw bytes, before parsing. Redirects are not
followed; only a 2xx answer counts as delivered.

Body (version 1; keys are only ever added)::

    {
      "version": 1,
      "id": 42,                        # the notice (the same for all its deliveries)
      "delivery": 314,                 # = X-SLA-Delivery
      "event": "objective_missed",     # = X-SLA-Event
      "created_at": "2026-11-01T00:15:00+00:00",
      "tenant": "northwind",
      "party": {"id": 3, "name": "Globex"},
      "agreement": {"id": 7, "reference": "GLX-1", "title": "Globex hosting"},
      "object": {"type": "compliance_result", "id": 12},
                                       # compliance_result | service_credit | revision | agreement
      "period": "2026-10",             # "" for revisions; the review date for review_due
      "state": "missed",
      "title": "GLX-1: Availability missed in 2026-10",
      "text": "…",                     # title and text in the site's default language
      "url": "https://northwind.example.com/agreements/7/periods/2026-10/",
      "data": {…}                      # per kind, below; numbers as strings
    }

``data`` per kind:

- objective_at_risk / objective_missed: ``{"objective": {"key", "name",
  "metric", "target", "target_text", "comparison"}, "status", "attained",
  "attained_text", "margin", "margin_text", "data_points", "period_start",
  "period_end"}``
- credit_calculated: ``{"credit": {"id", "period", "status", "percent",
  "amount", "currency", "amount_text"}}``
- dispute_opened / dispute_resolved: the credit as above plus ``"note"``
  (the dispute's reason, the resolution) and ``"at"`` (when)
- revision_awaiting_acceptance: ``{"revision": {"id", "number",
  "effective_from", "summary", "approved_at"}}``
- review_due: ``{"next_review_on", "review_every_months", "last_reviewed_on"}``

A test event (admin: "send a test event") has ``"event": "test"``, ``"id":
null``, ``"agreement": null``, ``"object": null`` and ``"data": {}``.

Webhook URLs must be ``https`` and resolve to public addresses (checked on save
and before every send, against SSRF into the platform's network), unless
``settings.NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL`` (default: ``DEBUG``) allows
``http`` and private or loopback addresses, for development and tests.
"""
