"""Saving the OAuth 2.0 configuration: clients, provider templates, domains (ThingsBoard's OAuth2Controller,
OAuth2ConfigTemplateController, DomainController), and the clients a login page offers. The system
administrator's only (the views check); every refusal is a ValidationError (400) or Http404."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from rest_framework.exceptions import ValidationError

from oauth import validation as v
from oauth.models import Domain, MobileApp, OAuth2Client, OAuth2ClientTemplate
from tbproject.api.ids import parse_uuid

__all__ = ["body_pk", "save_client", "save_template", "save_domain", "set_domain_clients", "clients_by_ids",
           "login_clients", "login_url"]


def body_pk(data: dict):
    raw = data.get("id")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    return parse_uuid(raw) if raw else None


def _existing(model, data: dict):
    pk = body_pk(data)
    if pk is None:
        return model()
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"{model._meta.verbose_name} is not found")
    return found


def save_client(data) -> OAuth2Client:
    data = v.body(data)
    client = _existing(OAuth2Client, data)
    info = v.json_object(data, "additionalInfo") or {}
    if not isinstance(info.get("providerName"), str) or not info["providerName"].strip():
        raise ValidationError("additionalInfo.providerName is required")
    client.additional_info = info
    client.title = v.text(data, "title", required=True)
    client.mapper_config = v.mapper_config(data.get("mapperConfig"), client.mapper_config or None)
    client_id = v.text(data, "clientId", required=True)
    token_uri = v.url(data, "accessTokenUri", required=True)
    # the stored secret goes only where it went: a new client id or token endpoint needs the secret again
    same = (client_id, token_uri) == (client.client_id, client.access_token_uri)
    client.client_secret = v.secret(data, "clientSecret", client.client_secret if same else None)
    client.client_id, client.access_token_uri = client_id, token_uri
    client.authorization_uri = v.url(data, "authorizationUri", required=True)
    client.scope = v.string_list(data, "scope", required=True)
    client.user_info_uri = v.url(data, "userInfoUri")
    client.user_name_attribute_name = v.text(data, "userNameAttributeName", required=True)
    client.jwk_set_uri = v.url(data, "jwkSetUri")
    client.client_authentication_method = v.auth_method(data)
    client.login_button_label = v.text(data, "loginButtonLabel", required=True)
    client.login_button_icon = v.text(data, "loginButtonIcon", limit=255)
    client.platforms = v.platforms(data)
    if client.mapper_config["type"] != "CUSTOM" and not client.user_info_uri:
        raise ValidationError("userInfoUri is required: the mapper reads the user's attributes from it")
    client.save()
    return client


def save_template(data) -> OAuth2ClientTemplate:
    data = v.body(data)
    template = _existing(OAuth2ClientTemplate, data)
    template.provider_id = v.text(data, "providerId", required=True)
    template.additional_info = v.json_object(data, "additionalInfo") or {}
    mapper = data.get("mapperConfig")
    template.mapper_config = v.mapper_config(mapper, template.mapper_config) if mapper is not None else None
    for key, field in (("authorizationUri", "authorization_uri"), ("accessTokenUri", "access_token_uri"),
                       ("userInfoUri", "user_info_uri"), ("jwkSetUri", "jwk_set_uri"), ("helpLink", "help_link")):
        setattr(template, field, v.url(data, key))
    template.scope = v.string_list(data, "scope")
    template.user_name_attribute_name = v.text(data, "userNameAttributeName")
    method = data.get("clientAuthenticationMethod")
    template.client_authentication_method = v.auth_method(data) if method else ""
    template.comment = v.text(data, "comment", limit=10000)
    template.login_button_icon = v.text(data, "loginButtonIcon")
    template.login_button_label = v.text(data, "loginButtonLabel")
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationError("Client registration template with such providerId already exists!") from None
    return template


def clients_by_ids(ids) -> list[OAuth2Client]:
    """The clients of ``ids`` (uuids); an unknown one is a 404, as ThingsBoard's checkOauth2ClientId."""
    ids = [parse_uuid(i) for i in ids]
    found = {c.pk: c for c in OAuth2Client.objects.filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Http404(f"OAuth2 client {missing[0]} is not found")
    return list(found.values())


def _domain_name(data: dict) -> str:
    name = v.text(data, "name", required=True).strip().lower()
    if "://" in name or "/" in name or " " in name:
        raise ValidationError("name must be a host name (and port), without scheme or path")
    return name


def save_domain(data, client_ids: list | None) -> Domain:
    data = v.body(data)
    domain = _existing(Domain, data)
    domain.name = _domain_name(data)
    domain.oauth2_enabled = v.flag(data, "oauth2Enabled", True)
    domain.propagate_to_edge = v.flag(data, "propagateToEdge", False)
    clients = clients_by_ids(client_ids) if client_ids is not None else None
    try:
        with transaction.atomic():
            domain.save()
            if clients is not None:
                domain.oauth2_clients.set(clients)
    except IntegrityError:
        raise ValidationError("Domain with such name already exists!") from None
    return domain


def set_domain_clients(domain: Domain, client_ids) -> None:
    if not isinstance(client_ids, list):
        raise ValidationError("Request body must be a JSON array of OAuth2 client ids")
    domain.oauth2_clients.set(clients_by_ids(client_ids))


def login_clients(host: str, pkg_name: str | None = None, platform: str | None = None) -> list[OAuth2Client]:
    """The clients a login page offers: those of the enabled domain named like the request's host (with or
    without its port), or of the mobile app ``pkg_name``'s bundles; ``platform`` (WEB, ANDROID, IOS; another
    value is ignored) keeps those allowed on it (an empty ``platforms`` allows every one)."""
    if pkg_name:
        apps = MobileApp.objects.filter(pkg_name=pkg_name)
        qs = OAuth2Client.objects.filter(Q(mobile_bundles__android_app__in=apps) | Q(mobile_bundles__ios_app__in=apps),
                                         mobile_bundles__oauth2_enabled=True)
    else:
        names = {host.lower(), host.lower().rsplit(":", 1)[0]}
        qs = OAuth2Client.objects.filter(domains__name__in=names, domains__oauth2_enabled=True)
    clients = list(qs.distinct().order_by("title"))
    if platform in ("WEB", "ANDROID", "IOS"):
        clients = [c for c in clients if not c.platforms or platform in c.platforms]
    return clients


def login_url(client: OAuth2Client, pkg_name: str | None = None) -> str:
    """The browser's entry into the flow (oauth/views.py), as ThingsBoard's OAuth2ClientLoginInfo.url."""
    url = f"/oauth2/authorization/{client.pk}"
    return f"{url}?pkgName={pkg_name}" if pkg_name else url
