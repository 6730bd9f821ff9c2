"""The sign-up form a domain shows (SignUpSelfRegistrationParams) and a user's acceptance of the privacy policy
and the terms of use (kept in its additionalInfo: ``privacyPolicyAccepted``/``termsOfUseAccepted`` with the time)."""

from signup.choices import DEFAULT_FIELDS
from signup.models import SelfRegistration, SignUp
from tbproject.clock import now_ms

__all__ = ["PRIVACY_POLICY", "TERMS_OF_USE", "sign_up_form", "accept", "accepted"]

PRIVACY_POLICY, TERMS_OF_USE = "privacyPolicy", "termsOfUse"


def sign_up_form(row: SelfRegistration) -> dict:
    """What the sign-up page needs; never the captcha's secret key."""
    return {"title": row.title,
            "captcha": {"version": row.captcha_version, "siteKey": row.captcha_site_key,
                        "logActionName": row.captcha_action or None},
            "fields": row.sign_up_fields or DEFAULT_FIELDS,
            "showPrivacyPolicy": row.show_privacy_policy, "showTermsOfUse": row.show_terms_of_use,
            # ThingsBoard 3.x's names
            "signUpTextMessage": row.title, "captchaSiteKey": row.captcha_site_key}


def accept(user, document: str) -> bool:
    """Record that ``user`` accepted ``document``; False when it had already."""
    info = dict(user.additional_info) if isinstance(user.additional_info, dict) else {}
    if info.get(f"{document}Accepted") is True:
        return False
    info[f"{document}Accepted"] = True
    info[f"{document}AcceptedTs"] = now_ms()
    user.additional_info = info
    user.save(update_fields=["additional_info"])
    return True


def accepted(user, document: str) -> bool:
    """Whether ``user`` accepted ``document``; a user that did not sign up has nothing to accept."""
    info = user.additional_info if isinstance(user.additional_info, dict) else {}
    if info.get(f"{document}Accepted") is True:
        return True
    return not SignUp.objects.filter(user_id=user.pk).exists()
