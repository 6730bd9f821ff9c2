"""HTTP integration: devices or backends POST/PUT to /api/v1/integrations/http/{routingKey}."""

from integrations.types.base import PushIntegration, TypeConfig
from integrations.types.cloud import HEADER_FILTER_SECRETS

__all__ = ["HttpConfig", "HttpIntegration"]


class HttpConfig(TypeConfig):
    baseUrl: str = ""
    replaceNoContentToOk: bool = False
    enableSecurity: bool = False
    #: header name -> required value; every pair must match when enableSecurity is on
    headersFilter: dict[str, str] = {}


class HttpIntegration(PushIntegration):
    kind, label = "HTTP", "HTTP"
    config_model = HttpConfig
    endpoint = "http"
    secret_fields = HEADER_FILTER_SECRETS

    def headers_match(self, headers: dict[str, str]) -> bool:
        """True unless security is on and a configured header is missing or different.

        ``headers`` has lower-case names, as the ASGI server gives them.
        """
        if not self.config.enableSecurity:
            return True
        return all(headers.get(name.lower()) == value for name, value in self.config.headersFilter.items())
