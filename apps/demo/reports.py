"""Report e-mails for the demo's report recipients: Globex monthly (with the PDF), Initech
weekly (in English) and monthly (in German, PDF and CSV)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from apps.parties.models import Contact, ContactRole
from apps.reports.models import Frequency, ReportSubscription
from apps.reports.services import subscription_save


def seed(*, tenant: Any, password: str, today: date | None = None) -> None:
    # password and today unused: the signature of seeders
    if ReportSubscription.objects.exists():
        return
    admin = get_user_model().objects.get(username="admin")
    plans: dict[str, list[dict[str, Any]]] = {
        "alice@globex.example": [
            {"frequency": Frequency.MONTHLY, "timezone": "Europe/Berlin", "attach_pdf": True}
        ],
        "bob@initech.example": [
            {"frequency": Frequency.WEEKLY, "send_day": 0, "timezone": "America/New_York"},
            {
                "frequency": Frequency.MONTHLY,
                "timezone": "America/New_York",
                "language": "de",
                "attach_pdf": True,
                "attach_csv": True,
            },
        ],
    }
    for contact in Contact.objects.filter(role=ContactRole.REPORT_RECIPIENT):
        for plan in plans.get(contact.email, []):
            subscription_save(
                acting_user=admin, party=contact.party, contact=contact, send_hour=7, **plan
            )
