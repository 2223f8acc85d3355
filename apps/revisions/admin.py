"""Provider admin for revisions: inline text, objectives and credit tiers; approve, new draft, diff.

An approved revision opens read-only (no change or delete permission, so a
forged POST gets 403), as do its inlines.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from apps.agreements.admin import AgreementAdmin
from apps.agreements.models import Agreement
from apps.core.params import parse_whole_number
from apps.revisions.diff import diff_base, revision_diff
from apps.revisions.models import (
    LIFECYCLE_FIELDS,
    OBJECTIVE_TERMS,
    CreditTier,
    Objective,
    Revision,
    RevisionSection,
    RevisionStatus,
)
from apps.revisions.services import (
    credit_tier_delete,
    credit_tier_save,
    objective_delete,
    objective_save,
    revision_approve,
    revision_create,
    revision_new_draft,
    revision_update,
)

REVISION_FORM_FIELDS = ("effective_from", "summary", "credit_cap_percent")


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


class LockedInlineMixin(InlineModelAdmin):
    """Inline rows are editable only while the parent revision is a draft."""

    def _editable(self, obj) -> bool:
        return obj is None or obj.status == RevisionStatus.DRAFT

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class SectionInline(LockedInlineMixin, admin.StackedInline):
    model = RevisionSection
    extra = 0
    fields = ("key", "body")


class ObjectiveInline(LockedInlineMixin, admin.TabularInline):
    model = Objective
    extra = 0
    fields = OBJECTIVE_TERMS


class CreditTierInline(LockedInlineMixin, admin.TabularInline):
    model = CreditTier
    extra = 0
    fields = ("objective", "below", "percent")

    def get_formset(self, request, obj=None, **kwargs):
        self._revision = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "objective":
            revision = getattr(self, "_revision", None)
            kwargs["queryset"] = (
                Objective.objects.filter(revision=revision)
                if revision
                else (Objective.objects.none())
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Revision)
class RevisionAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "agreement",
        "number",
        "status",
        "effective_from",
        "summary",
        "approved_at",
        "accepted_at",
    )
    list_filter = ("status", "agreement__tier", "agreement")
    search_fields = ("agreement__reference", "agreement__title", "summary")
    autocomplete_fields = ["agreement"]
    inlines = [SectionInline, ObjectiveInline, CreditTierInline]
    actions = ["approve_selected", "new_draft_from_selected", "diff_selected"]
    change_form_template = "admin/revisions/revision/change_form.html"
    status_fields = LIFECYCLE_FIELDS

    def get_fields(self, request, obj=None):
        return ("agreement", "effective_from", "summary", "credit_cap_percent", *self.status_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.status_fields
        return ("agreement", *self.status_fields) if obj.is_draft else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    # --- writes go through the services (numbering, permissions, locks, history) ---
    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in REVISION_FORM_FIELDS}
        if change:
            revision_update(revision=obj, acting_user=request.user, **fields)
        else:
            created = revision_create(
                agreement=form.cleaned_data["agreement"], acting_user=request.user, **fields
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)  # fills new/changed/deleted_objects
        revision = form.instance
        if formset.model is RevisionSection:
            kept = [
                f.cleaned_data
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            sections = {data["key"]: data["body"] for data in kept}
            revision_update(revision=revision, acting_user=request.user, sections=sections)
            return
        user = request.user
        # Deleting an objective deletes its tiers too: skip rows already gone.
        removed = [row for row in formset.deleted_objects if type(row).objects.filter(pk=row.pk)]
        for row in removed:
            if isinstance(row, CreditTier):
                credit_tier_delete(tier=row, acting_user=user)
            elif isinstance(row, Objective):
                objective_delete(objective=row, acting_user=user)
        for row in instances:
            row.revision = revision
            if isinstance(row, CreditTier):
                credit_tier_save(tier=row, acting_user=user)
            elif isinstance(row, Objective):
                objective_save(objective=row, acting_user=user)

    # --- object tools: approve, new draft, diff -----------------------------
    def get_urls(self):
        own = [
            path(
                "<int:pk>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="revisions_revision_approve",
            ),
            path(
                "<int:pk>/new-draft/",
                self.admin_site.admin_view(self.new_draft_view),
                name="revisions_revision_new_draft",
            ),
            path(
                "<int:pk>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="revisions_revision_diff",
            ),
        ]
        return own + super().get_urls()

    def _change_url(self, revision: Revision) -> str:
        return reverse("admin:revisions_revision_change", args=[revision.pk])

    def approve_view(self, request, pk: int):
        return require_POST(self._approve)(request, pk)

    def _approve(self, request, pk: int):
        revision = get_object_or_404(Revision, pk=pk)
        try:
            revision_approve(revision=revision, acting_user=request.user)
            self.message_user(request, f"Revision {revision.number} approved.", messages.SUCCESS)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Not approved: {_error_text(exc)}", messages.ERROR)
        return HttpResponseRedirect(self._change_url(revision))

    def new_draft_view(self, request, pk: int):
        return require_POST(self._new_draft)(request, pk)

    def _new_draft(self, request, pk: int):
        revision = get_object_or_404(Revision, pk=pk)
        try:
            draft = revision_new_draft(revision=revision, acting_user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"No draft created: {_error_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(self._change_url(revision))
        self.message_user(
            request,
            f"Draft revision {draft.number} created from revision {revision.number}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._change_url(draft))

    def diff_view(self, request, pk: int):
        revision = get_object_or_404(Revision, pk=pk)
        others = revision.agreement.revisions.exclude(pk=revision.pk).order_by("number")
        against = None
        if request.GET.get("against"):
            try:
                number = parse_whole_number(request.GET["against"], name="against")
            except ValidationError:
                raise Http404("No such revision.") from None
            against = get_object_or_404(others, pk=number)
        base = diff_base(revision, among=others, against=against) or others.first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Changes in {revision}",
            "revision": revision,
            "others": others,
            "base": base,
            "diff": revision_diff(base, revision) if base else None,
        }
        return render(request, "admin/revisions/revision/diff.html", context)

    # --- list actions -----------------------------------------------------------
    @admin.action(description="Approve selected draft revisions")
    def approve_selected(self, request, queryset):
        for revision in queryset.order_by("agreement", "number"):
            try:
                revision_approve(revision=revision, acting_user=request.user)
                self.message_user(
                    request,
                    f"{revision.agreement.reference} revision {revision.number} approved.",
                    messages.SUCCESS,
                )
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{revision}: {_error_text(exc)}", messages.ERROR)

    @admin.action(description="New draft from the selected revision")
    def new_draft_from_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one revision.", messages.WARNING)
            return None
        return self._new_draft(request, queryset.get().pk)

    @admin.action(description="Show diff between the two selected revisions")
    def diff_selected(self, request, queryset):
        chosen = list(queryset.order_by("number"))
        if len(chosen) == 1:
            return HttpResponseRedirect(
                reverse("admin:revisions_revision_diff", args=[chosen[0].pk])
            )
        if len(chosen) != 2 or chosen[0].agreement_id != chosen[1].agreement_id:
            self.message_user(
                request, "Select two revisions of the same agreement.", messages.WARNING
            )
            return None
        url = reverse("admin:revisions_revision_diff", args=[chosen[1].pk])
        return HttpResponseRedirect(f"{url}?against={chosen[0].pk}")


@admin.register(Objective)
class ObjectiveAdmin(SimpleHistoryAdmin):
    list_display = ("key", "revision", "metric", "target", "comparison", "period", "calendar")
    list_filter = ("metric", "period", "revision__status")
    search_fields = ("key", "name", "revision__agreement__reference")
    autocomplete_fields = ["revision", "calendar", "service"]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.revision.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not obj.revision.is_draft:
            return False
        return super().has_delete_permission(request, obj)


class RevisionInline(admin.TabularInline):
    """Revisions of the agreement, read-only here: each opens in its own editor."""

    model = Revision
    fields = ("link", "status", "effective_from", "summary", "approved_at", "accepted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="revision")
    def link(self, revision: Revision):
        url = reverse("admin:revisions_revision_change", args=[revision.pk])
        return format_html('<a href="{}">Revision {}</a>', url, revision.number)


# The agreement editor lists its revisions; revisions are a later step than agreements,
# so this app extends the agreement admin rather than the other way round.
class AgreementWithRevisionsAdmin(AgreementAdmin):
    inlines = [RevisionInline]


admin.site.unregister(Agreement)
admin.site.register(Agreement, AgreementWithRevisionsAdmin)
