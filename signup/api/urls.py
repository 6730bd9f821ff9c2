from django.urls import path

from signup import policies
from signup.api import views

__all__ = ["urlpatterns"]

P, T = policies.PRIVACY_POLICY, policies.TERMS_OF_USE

urlpatterns = [
    path("selfRegistration/selfRegistrationParams", views.SelfRegistrationParamsView.as_view(),
         name="selfRegistration-params"),
    path("noauth/selfRegistration/signUpSelfRegistrationParams", views.SignUpParamsView.as_view(),
         name="noauth-sign-up-params"),
    path("noauth/selfRegistration/privacyPolicy", views.PrivacyPolicyView.as_view(), name="noauth-privacy-policy"),
    path("noauth/selfRegistration/termsOfUse", views.TermsOfUseView.as_view(), name="noauth-terms-of-use"),
    path("noauth/signup", views.SignUpView.as_view(), name="noauth-signup"),
    path("noauth/activateEmail", views.ActivateEmailView.as_view(), name="noauth-activate-email"),
    path("noauth/activateByEmailCode", views.ActivateByCodeView.as_view(), name="noauth-activate-by-email-code"),
    path("noauth/resendEmailActivation", views.ResendView.as_view(), name="noauth-resend-email-activation"),
    path("noauth/login", views.MobileLoginView.as_view(), name="noauth-mobile-login"),
    path("signup/acceptPrivacyPolicy", views.AcceptView.as_view(document=P), name="signup-accept-privacy-policy"),
    path("signup/acceptTermsOfUse", views.AcceptView.as_view(document=T), name="signup-accept-terms-of-use"),
    path("signup/privacyPolicyAccepted", views.AcceptedView.as_view(document=P), name="signup-privacy-policy-accepted"),
    path("signup/termsOfUseAccepted", views.AcceptedView.as_view(document=T), name="signup-terms-of-use-accepted"),
]
