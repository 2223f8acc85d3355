"""Forms of the portal: every action a customer can take, validated before a service runs."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AcceptRevisionForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label=_("I have read this revision and accept it on behalf of my organisation."),
        error_messages={"required": _("Tick the box to confirm the acceptance.")},
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you dispute this credit?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Give a reason; the provider reads it.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason; the provider reads it."))
        return reason


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("as my browser says")), *settings.LANGUAGES],
        required=False,
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ViewAsForm(forms.Form):
    party = forms.IntegerField(required=False, min_value=1)
