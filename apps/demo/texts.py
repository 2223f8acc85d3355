"""The demo agreements' text: realistic sections of a hosting SLA."""

from __future__ import annotations


def agreement_sections(customer: str, services: str, extra: str = "") -> dict[str, str]:
    return {
        "overview": (
            f"This agreement sets out the services Northwind Hosting provides to {customer}, "
            "the levels at which they are delivered, how they are measured and what happens "
            f"when a level is missed.{extra}"
        ),
        "services": (
            f"Covered: {services}.\nExcluded: planned maintenance announced five business days "
            "ahead (Sundays 02:00–06:00 CET), incidents caused by the customer's own changes, "
            "and third-party outages outside Northwind's control."
        ),
        "provider_responsibilities": (
            "Northwind monitors the services around the clock, answers tickets within the "
            "response times below, keeps the customer informed at least every four business "
            "hours on priority 1 incidents, and publishes a monthly service report."
        ),
        "customer_responsibilities": (
            f"{customer} names two technical contacts, reports incidents through the service "
            "desk portal or API with a priority, and answers requests for information within "
            "one business day (the SLA clock pauses while Northwind waits for an answer)."
        ),
        "escalation": (
            "Level 1: service desk. Level 2 (after 2 business hours on P1): duty manager. "
            "Level 3 (after 4 business hours on P1): head of operations, who informs the "
            "customer's escalation contact."
        ),
        "remedies": (
            "A missed objective earns a service credit as a percentage of the monthly fee, per "
            "the credit tiers of this revision, capped per month. Credits are the customer's "
            "sole remedy for a missed service level."
        ),
        "indemnification": (
            "Each party indemnifies the other against third-party claims arising from its "
            "breach of data-protection law; liability is otherwise limited to twelve months' fees."
        ),
        "reporting": (
            "A compliance report per objective is available in the portal at all times and "
            "e-mailed to the report recipients on the 3rd business day of each month."
        ),
        "review": (
            "Both parties review this agreement at the cadence shown on the agreement and "
            "whenever the services change materially."
        ),
    }
