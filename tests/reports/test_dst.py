"""Reports across daylight-saving changes: the clock stepped hour by hour through both
changes of Europe/Berlin and America/New_York, as the 15-minute dispatch sees it, sends
every weekly and monthly period exactly once, at the subscriber's local send time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.parties.models import Contact, ContactRole
from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.services import run_send, runs_due, subscription_due
from tests.conftest import TENANT_A


def _slots(frequency: str, day: int, first: date, last: date) -> list[str]:
    """The labels a subscription must send between two dates (a brute-force reference)."""
    labels = []
    current = first
    while current <= last:
        if frequency == "weekly" and current.weekday() == day:
            year, week, _ = (current - timedelta(days=7)).isocalendar()
            labels.append(f"{year}-W{week:02d}")
        if frequency == "monthly" and current.day == day:
            previous = current.replace(day=1) - timedelta(days=1)
            labels.append(f"{previous:%Y-%m}")
        current += timedelta(days=1)
    return labels


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("Europe/Berlin", date(2026, 3, 16), date(2026, 4, 5)),  # spring forward 29 March
        ("Europe/Berlin", date(2026, 10, 12), date(2026, 11, 2)),  # fall back 25 October
        ("America/New_York", date(2026, 2, 23), date(2026, 3, 15)),  # spring forward 8 March
        ("America/New_York", date(2026, 10, 19), date(2026, 11, 8)),  # fall back 1 November
    ],
)
def test_stepping_the_clock_through_a_dst_change_sends_every_period_once(
    world_a, time_machine, zone, first, last
):
    """Hour by hour, as the 15-minute dispatch would see it; the weekly reports go out on
    Sunday at 02:00 local time, the hour that is skipped in spring and repeated in autumn,
    the monthly ones on the 1st at 02:00."""
    tz = ZoneInfo(zone)
    plans = [("weekly", 6, 2), ("monthly", 1, 2), ("weekly", 0, 7)]
    with schema_context(TENANT_A.schema):
        subscriptions = {}
        for n, (frequency, day, hour) in enumerate(plans):
            contact = Contact.objects.create(
                party=world_a.party_x,
                name=f"DST {n}",
                email=f"dst{n}@x.example",
                role=ContactRole.REPORT_RECIPIENT,
            )
            subscription = ReportSubscription.objects.create(
                party=world_a.party_x,
                contact=contact,
                frequency=frequency,
                send_day=day,
                send_hour=hour,
                timezone=zone,
                attach_pdf=False,
            )
            subscriptions[subscription.pk] = (subscription, frequency, day, hour)
        start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
        end = datetime.combine(last, datetime.max.time(), tz).astimezone(UTC)
        # Reports that fell due before the range are already sent.
        for subscription, *_ in subscriptions.values():
            ReportRun.objects.create(
                subscription=subscription,
                period=subscription_due(subscription, start).label,
                status=RunStatus.SENT,
                lease_until=start,
            )
        sent_at: dict[tuple[int, str], datetime] = {}
        now = start
        while now <= end:
            time_machine.move_to(now, tick=False)
            for pk, label in runs_due(now):
                assert run_send(subscriptions[pk][0], label, now=now) == "sent"
                assert (pk, label) not in sent_at, (pk, label, now)
                sent_at[(pk, label)] = now
            now += timedelta(hours=1)

    assert len(mail.outbox) == len(sent_at)
    for pk, (_, frequency, day, hour) in subscriptions.items():
        expected = _slots(frequency, day, first, last)
        labels = sorted(label for key, label in sent_at if key == pk)
        assert labels == expected, (frequency, zone)
        for label in labels:
            local = sent_at[(pk, label)].astimezone(tz)
            # At the slot's local hour; 03:00 when 02:00 does not exist that day.
            assert local.hour in (hour, hour + 1) and local.minute == 0, (label, local)
            if local.hour == hour + 1:
                assert local.utcoffset() != (local - timedelta(hours=2)).utcoffset()
    assert max(Counter((tuple(m.to), m.subject) for m in mail.outbox).values()) == 1
