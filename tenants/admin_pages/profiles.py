"""The tenant profile form: one text box per rate limit (tenants/limits/profile.py), checked as
ThingsBoard checks them, stored under ``profile_data["configuration"]`` with ThingsBoard's keys;
other configuration keys (``maxDevices``, ...) are edited as JSON and kept as they are."""

from django import forms

from tenants.limits import LIMIT_KEYS, validate
from tenants.models import TenantProfile

__all__ = ["TenantProfileForm", "LIMIT_FIELDS"]

#: form field name -> profile configuration key
LIMIT_FIELDS = {f"limit_{key}": key for key in LIMIT_KEYS}


class _ProfileForm(forms.ModelForm):
    class Meta:
        model = TenantProfile
        fields = ("name", "description", "is_default", "profile_data")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        configuration = self.instance.configuration if self.instance.pk else {}
        for field, key in LIMIT_FIELDS.items():
            self.initial.setdefault(field, configuration.get(key) or "")
        self.fields["profile_data"].help_text = "Other configuration keys (JSON); the limits above replace theirs."

    def _get_validation_exclusions(self):
        # "one default" is kept by save(), which takes the flag from the old default
        return {*super()._get_validation_exclusions(), "is_default"}

    def clean(self):
        cleaned = super().clean()
        for field in LIMIT_FIELDS:
            problem = validate(cleaned.get(field) or "")
            if problem:
                self.add_error(field, problem)
        data = cleaned.get("profile_data")
        if data is not None and not isinstance(data, dict):
            self.add_error("profile_data", "The profile data must be a JSON object.")
        return cleaned

    def save(self, commit=True):
        profile = super().save(commit=False)
        data = dict(profile.profile_data) if isinstance(profile.profile_data, dict) else {}
        configuration = dict(data.get("configuration") or {})
        configuration.setdefault("type", "DEFAULT")
        for field, key in LIMIT_FIELDS.items():
            value = (self.cleaned_data.get(field) or "").strip()
            if value:
                configuration[key] = value
            else:
                configuration.pop(key, None)
        profile.profile_data = {**data, "configuration": configuration}
        if profile.is_default:  # one default: the new one replaces the old
            TenantProfile.objects.filter(is_default=True).exclude(pk=profile.pk).update(is_default=False)
        if commit:
            profile.save()
        return profile


def _limit_field(key: str) -> forms.CharField:
    return forms.CharField(label=key, required=False,
                           help_text=f"{LIMIT_KEYS[key].capitalize()}: e.g. 100:1,2000:60 (count:seconds, "
                                     "comma-separated); empty for no limit.")


#: declared fields, one per limit, so that the admin's fieldsets may name them
TenantProfileForm = type("TenantProfileForm", (_ProfileForm,),
                         {field: _limit_field(key) for field, key in LIMIT_FIELDS.items()})
