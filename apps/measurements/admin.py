"""Admin for measurement data: read-only lists, CSV import, exclude / reinstate.

Rows arrive through the API or the CSV import (both through
``apps.measurements.ingestion``), so the admin shows them read-only: editing a row
by hand would bypass the ingestion checks. Provider managers exclude or
reinstate tickets and outages with the list actions, giving the reason in the
field beside the action menu; every decision is kept as an ExclusionEvent.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.agreements.models import Service
from apps.core.timestamps import NAIVE_TIMESTAMP
from apps.measurements.csv_import import KINDS, CsvImportError, csv_import, csv_template
from apps.measurements.exclusion import measurement_exclude, measurement_reinstate
from apps.measurements.models import ExclusionEvent, Outage, Sample, Ticket, TicketPause
from apps.parties.selectors import is_provider_manager

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason",
        help_text="for exclude / reinstate; the customer sees it",
        widget=forms.TextInput(attrs={"size": 40}),
    )


class CsvImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(name, name.title()) for name in KINDS])
    file = forms.FileField(help_text="CSV, UTF-8, with a header row.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"At most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB per file.")
        return upload


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PauseInline(_ReadOnlyInline):
    model = TicketPause
    fields = ("start", "end", "reason")


class ExclusionEventInline(_ReadOnlyInline):
    model = ExclusionEvent
    fields = ("at", "excluded", "reason", "by")
    readonly_fields = ("at",)


class MeasurementAdmin(admin.ModelAdmin):
    """Read-only rows, plus the CSV import view and the template download."""

    csv_kind: str = ""
    change_list_template = "admin/measurements/import_change_list.html"  # + "Import CSV"

    def has_add_permission(self, request) -> bool:
        return False  # rows come from the API or the CSV import

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        info = (self.opts.app_label, self.opts.model_name)
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name="{}_{}_import_csv".format(*info),
            ),
            path(
                "import-csv/<str:kind>.csv",
                self.admin_site.admin_view(self.csv_template_view),
                name="{}_{}_csv_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def _may_import(self, request, kind: str) -> bool:
        opts = KINDS[kind].model._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def csv_template_view(self, request, kind: str) -> HttpResponse:
        if kind not in KINDS:
            raise Http404("No such kind of measurement.")
        service = Service.objects.order_by("pk").values_list("pk", flat=True).first()
        response = HttpResponse(
            csv_template(kind, service_id=service), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
        return response

    def import_csv_view(self, request) -> HttpResponse:
        form = CsvImportForm(
            request.POST or None, request.FILES or None, initial={"kind": self.csv_kind}
        )
        problems = []
        if request.method == "POST" and form.is_valid():
            kind = form.cleaned_data["kind"]
            if not self._may_import(request, kind):
                raise PermissionDenied
            try:
                result = csv_import(
                    kind=kind, data=form.cleaned_data["file"].read(), acting_user=request.user
                )
            except CsvImportError as exc:
                problems = exc.problems
            else:
                self.message_user(
                    request,
                    f"Imported {kind}: created {result.created}, updated {result.updated}.",
                    messages.SUCCESS,
                )
                model = KINDS[kind].model._meta
                return HttpResponseRedirect(
                    reverse(f"admin:{model.app_label}_{model.model_name}_changelist")
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import measurements from CSV",
            "form": form,
            "problems": problems,
            "naive_message": NAIVE_TIMESTAMP,
            "kinds": [
                {
                    "name": name,
                    "columns": kind.columns,
                    "required": kind.required,
                    "template_url": reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_csv_template",
                        args=[name],
                    ),
                }
                for name, kind in KINDS.items()
            ],
        }
        return TemplateResponse(request, "admin/measurements/csv_import.html", context)


class ExcludableAdmin(MeasurementAdmin):
    """Tickets and outages: list actions to exclude and reinstate, with a reason."""

    action_form = ReasonActionForm
    actions = ["exclude_selected", "reinstate_selected"]
    inlines = [ExclusionEventInline]

    def has_exclude_permission(self, request) -> bool:
        return is_provider_manager(request.user)

    def _decide(self, request, queryset, decide: Callable[..., object], verb: str) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(
                request, "Give a reason in the field beside the action menu.", messages.ERROR
            )
            return
        done, skipped = 0, []
        for measurement in queryset:
            try:
                decide(measurement=measurement, reason=reason, acting_user=request.user)
                done += 1
            except ValidationError as exc:
                skipped.append(f"{measurement}: {' '.join(exc.messages)}")
        self.message_user(request, f"{done} {verb}.", messages.SUCCESS)
        for text in skipped:
            self.message_user(request, text, messages.WARNING)

    @admin.action(description="Exclude selected from compliance", permissions=["exclude"])
    def exclude_selected(self, request, queryset) -> None:
        self._decide(request, queryset, measurement_exclude, "excluded")

    @admin.action(description="Reinstate selected (count them again)", permissions=["exclude"])
    def reinstate_selected(self, request, queryset) -> None:
        self._decide(request, queryset, measurement_reinstate, "reinstated")


@admin.register(Ticket)
class TicketAdmin(ExcludableAdmin):
    csv_kind = "tickets"
    list_display = (
        "external_id",
        "service",
        "customer",
        "priority",
        "opened_at",
        "resolved_at",
        "closed_at",
        "excluded",
    )
    list_filter = ("excluded", "priority", "service")
    list_select_related = ("service", "customer")
    search_fields = ("external_id",)
    date_hierarchy = "opened_at"
    inlines = [PauseInline, ExclusionEventInline]


@admin.register(Outage)
class OutageAdmin(ExcludableAdmin):
    csv_kind = "outages"
    list_display = (
        "external_id",
        "service",
        "customer",
        "start",
        "end",
        "kind",
        "cause",
        "excluded",
    )
    list_filter = ("excluded", "kind", "cause", "service")
    list_select_related = ("service", "customer")
    search_fields = ("external_id", "description")
    date_hierarchy = "start"


@admin.register(Sample)
class SampleAdmin(MeasurementAdmin):
    csv_kind = "samples"
    list_display = ("external_id", "service", "customer", "metric", "at", "value")
    list_filter = ("metric", "service")
    list_select_related = ("service", "customer")
    search_fields = ("external_id", "metric")
    date_hierarchy = "at"


@admin.register(ExclusionEvent)
class ExclusionEventAdmin(admin.ModelAdmin):
    """The audit trail of exclusion decisions: read only, never deleted by hand."""

    list_display = ("at", "excluded", "ticket", "outage", "reason", "by")
    list_filter = ("excluded",)
    list_select_related = ("ticket", "outage", "by")
    search_fields = ("reason", "ticket__external_id", "outage__external_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
