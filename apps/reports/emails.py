"""The report e-mail of one subscription for one period: HTML and text, attachments, headers.

One message per subscription and period covers every agreement of the subscriber's
party (and the parties below it): per agreement the period's objectives, the
breaches with their causes, the credit, what is at risk now, and a link to the
period page on the tenant's host; the PDF of each agreement's period report (the
portal's renderer) and the CSV of its figures are attached as the subscription asks,
and the message says which. ``List-Unsubscribe`` (one click) and a link to manage the
subscription are in every message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_list_evaluated
from apps.compliance.risk import AtRisk, at_risk
from apps.core.mail import sender
from apps.core.tenancy import current_schema
from apps.parties.selectors import party_descendant_ids
from apps.reports.digest import Digest, Row, report_digest, report_rows
from apps.reports.models import Frequency, ReportRun, ReportSubscription
from apps.reports.periods import OutageLine, PeriodReport, period_report, with_tickets
from apps.reports.rendering import report_csv, report_filename, report_pdf
from apps.reports.schedule import Due
from apps.reports.wording import objective_title
from apps.revisions.selectors import effective_objectives
from apps.tenants.selectors import tenant_base_url

UNSUBSCRIBE_SALT = "reports.unsubscribe"
BREACHES_IN_MAIL = 10


@dataclass
class AgreementSection:
    report: PeriodReport
    risk: AtRisk
    url: str  # the period page on the tenant's host
    rows: list[Row]  # the objectives with their allowance used and their record
    digest: Digest
    risk_names: dict[str, str] = field(default_factory=dict)  # objectives in force now

    @property
    def counted_outages(self) -> list[OutageLine]:
        return [line for line in self.report.outages if line.counted]

    @property
    def objective_names(self) -> dict[str, str]:
        """Key → name of the period's objectives and of those at risk now."""
        return {**self.risk_names, **self.report.objective_names}

    @property
    def more_breaches(self) -> int:
        return max(len(self.report.breaches) - BREACHES_IN_MAIL, 0)


def _salt() -> str:
    """The signing salt names the tenant: subscription ids repeat across schemas, and a
    token of one tenant must mean nothing on another's host."""
    return f"{UNSUBSCRIBE_SALT}:{current_schema()}"


def unsubscribe_token(subscription: ReportSubscription) -> str:
    """The credential of the e-mail's one-click unsubscribe link (in the current tenant)."""
    return signing.dumps({"id": subscription.pk}, salt=_salt())


def subscription_from_token(token: str) -> int | None:
    """The subscription id a token names in the current tenant, or None when it is not
    ours (forged, garbled, or signed for another tenant)."""
    try:
        value = signing.loads(token, salt=_salt())
    except signing.BadSignature:
        return None
    return value.get("id") if isinstance(value, dict) else None


def subscription_agreements(subscription: ReportSubscription) -> list[Agreement]:
    parties = party_descendant_ids([subscription.party_id])
    return list(
        agreement_list_evaluated()
        .filter(customer_id__in=parties)
        .select_related("provider", "customer")
    )


def message_id(run: ReportRun) -> str:
    """The same for every attempt of one run, so mail systems can tell a resend."""
    return f"<report-{run.pk}-{run.period}@{settings.BASE_DOMAIN}>"


def attachment_note(pdfs: int, csvs: int) -> str:
    """What is attached to the message, in one sentence ("" when nothing is): the PDF
    of each agreement's report, the CSV of its figures, or both."""
    n = max(pdfs, csvs)
    if pdfs and csvs:
        if n == 1:
            return _("The report is attached as a PDF file, its figures as a CSV file.")
        return ngettext(
            "The reports of the %(n)s agreement are attached as PDF files, "
            "their figures as CSV files.",
            "The reports of the %(n)s agreements are attached as PDF files, "
            "their figures as CSV files.",
            n,
        ) % {"n": n}
    if pdfs:
        if n == 1:
            return _("The report is attached as a PDF file.")
        return ngettext(
            "The reports of the %(n)s agreement are attached as PDF files.",
            "The reports of the %(n)s agreements are attached as PDF files.",
            n,
        ) % {"n": n}
    if csvs:
        if n == 1:
            return _("The report's figures are attached as a CSV file.")
        return ngettext(
            "The figures of the %(n)s agreement's report are attached as CSV files.",
            "The figures of the %(n)s agreements' reports are attached as CSV files.",
            n,
        ) % {"n": n}
    return ""


def _risk_names(agreement: Agreement, risk: AtRisk, known: dict[str, str]) -> dict[str, str]:
    """Names of the objectives at risk now that the reported period does not have (one
    read, only when there are such)."""
    keys = {budget.key for budget in risk.budgets} | {ticket.key for ticket in risk.tickets}
    if not keys - known.keys():
        return {}
    in_force = effective_objectives(agreement, timezone.localdate(risk.now))
    return {e.key: objective_title(e.objective) for e in in_force if e.key in keys}


def report_message(
    subscription: ReportSubscription, due: Due, run: ReportRun, *, agreements: list[Agreement]
) -> EmailMultiAlternatives:
    base = tenant_base_url()
    now = timezone.now()
    language = subscription.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(subscription.timezone):
        sections = []
        total = Digest()
        for agreement in agreements:
            report = period_report(agreement, due.period, now=now)
            with_tickets(report, report.breaches[:BREACHES_IN_MAIL])
            path = reverse("portal:period", args=[agreement.pk, due.period.label])
            digest = report_digest(report)
            total.add(digest)
            risk = at_risk(agreement, now=now)
            sections.append(
                AgreementSection(
                    report,
                    risk,
                    base + path,
                    report_rows(report),
                    digest,
                    _risk_names(agreement, risk, report.objective_names),
                )
            )
        attachments: list[tuple[str, bytes | str, str]] = []
        for section in sections:
            report = section.report
            if subscription.attach_pdf or subscription.attach_csv:
                with_tickets(report, report.breaches)
            if subscription.attach_pdf:
                pdf = report_pdf(report)
                attachments.append((report_filename(report, "pdf"), pdf, "application/pdf"))
            if subscription.attach_csv:
                csv = report_csv(report)
                attachments.append((report_filename(report, "csv"), csv, "text/csv"))
        kinds = [kind for _name, _content, kind in attachments]
        token = unsubscribe_token(subscription)
        provider = agreements[0].provider.name if agreements else ""
        context = {
            "subscription": subscription,
            "due": due,
            "weekly": subscription.frequency == Frequency.WEEKLY,
            "sections": sections,
            "total": total,
            "provider": provider,
            "breaches_in_mail": BREACHES_IN_MAIL,
            "manage_url": base + reverse("portal:subscriptions"),
            "unsubscribe_url": base + reverse("portal:unsubscribe", args=[token]),
            "base_url": base,
            "attached": attachment_note(kinds.count("application/pdf"), kinds.count("text/csv")),
        }
        subject = render_to_string("reports/email/subject.txt", context).strip()
        text = render_to_string("reports/email/report.txt", context)
        html = render_to_string("reports/email/report.html", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=text,
            from_email=sender(provider),
            to=[subscription.recipient],
            headers={
                "Message-ID": message_id(run),
                "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        )
        message.attach_alternative(html, "text/html")
        for name, content, kind in attachments:
            message.attach(name, content, kind)
    return message
