from django.apps import AppConfig


class OauthConfig(AppConfig):
    name = "oauth"
    verbose_name = "OAuth 2.0 clients, domains and mobile apps"

    def ready(self):
        from branding.domains import register_domain_resolver
        from oauth.models import Domain

        # LoginWhiteLabelingParams.domainId names one of these domains (branding sits below oauth)
        register_domain_resolver(lambda pk: Domain.objects.filter(pk=pk).values_list("name", flat=True).first())
