"""LoRaWAN network servers that post uplinks over HTTP and take downlinks through their REST API.

    THINGPARK, TPE   POST /api/v1/integrations/{thingpark|tpe}/{key}   Actility DevEUI_uplink document
    CHIRPSTACK       POST /api/v1/integrations/chirpstack/{key}?event=up|join|status|...   (v4 webhook)
    LORIOT           POST /api/v1/integrations/loriot/{key}             LORIOT HTTP push output

Their envelopes are unwrapped by the typed converters (converters/unwrap/); here only what the
transport needs: the ThingPark uplink token; downlinks, sent by a worker (``api_downlink``, api_downlinks.py):

- Uplinks, with ``enableSecurity`` and ``asKey``: Actility's Token query parameter is checked
  (SHA-256 of CustomerID, DevEUI, FPort, FCntUp, payload_hex, the query without Token and the AS
  key) and its Time must be within ``maxTimeDiffInSeconds``; 403 otherwise.
- ThingPark: ``POST {downlinkUrl}?DevEUI=..&FPort=..&Payload=<hex>[&AS_ID=..&Time=..&Token=..]``,
  Token = hex SHA-256 of the query string before it followed by the AS key (Actility's
  application-server authentication). TPE: the same, with an OAuth2 client-credentials bearer
  token when ``clientIdNew``/``clientSecret`` are set.
- ChirpStack v4: ``POST {applicationServerUrl}/api/devices/{devEui}/queue``
  ``{"queueItem": {"confirmed", "fPort", "data": base64}}`` with ``Grpc-Metadata-Authorization: Bearer``
  (the REST gateway's header); v3 (``useAPI4Plus`` false): ``{"deviceQueueItem": {..., "devEUI"}}``.
- LORIOT (when ``sendDownlink``): ``POST {loriotDownlinkUrl or https://{server}.{domain}/1/rest}``
  ``{"cmd": "tx", "EUI", "port", "confirmed", "data": hex, "appid"}`` with ``Authorization: Bearer``.
"""

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from integrations.messages import Downlink
from integrations.types.base import IntegrationError, TypeConfig
from integrations.types.cloud import (
    HEADER_FILTER_SECRETS,
    HttpFamilyConfig,
    HttpFamilyIntegration,
    call,
    confirmed,
    lorawan_target,
)

__all__ = ["ThingParkConfig", "ThingParkIntegration", "TpeIntegration", "ChirpStackConfig", "ChirpStackIntegration",
           "LoriotConfig", "LoriotIntegration", "payload_hex"]

_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def payload_hex(downlink: Downlink) -> str:
    """The downlink's bytes as hex; a TEXT/JSON payload that already is hex text is taken as is."""
    if downlink.content_type != "BINARY":
        text = downlink.payload.decode("utf-8", "replace").strip().strip('"')
        if _HEX.match(text):
            return text.lower()
    return downlink.payload.hex()


# --- ThingPark / ThingPark Enterprise ---------------------------------------------------------------

class ThingParkConfig(HttpFamilyConfig):
    downlinkUrl: str = ""
    enableSecurityNew: bool = False
    asId: str = ""
    asIdNew: str = ""
    asKey: str = ""
    clientIdNew: str = ""
    clientSecret: str = ""
    maxTimeDiffInSeconds: int = 60
    #: OAuth2 token endpoint of TPE; empty: {downlinkUrl origin}/users-auth/protocol/openid-connect/token
    tokenUrl: str = ""


def actility_time(now: float | None = None) -> str:
    """ISO time with milliseconds and offset, as Actility's downlink API wants it."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def actility_query(eui: str, port: int, payload: str, as_id: str, as_key: str, sent: str | None = None) -> str:
    """The signed query string of a ThingPark downlink (Token = SHA-256 of the query as sent, then
    the AS key); ``sent`` is the Time (now by default); its ``+`` is sent as %2B, ``:`` as is."""
    query = f"DevEUI={eui}&FPort={port}&Payload={payload}"
    if not as_id:
        return query
    sent = actility_time() if sent is None else sent
    query += f"&AS_ID={urllib.parse.quote(as_id, safe='')}&Time={urllib.parse.quote(sent, safe=':')}"
    token = hashlib.sha256((query + as_key).encode()).hexdigest()
    return f"{query}&Token={token}"


def uplink_token(body: dict, query_without_token: str, as_key: str) -> str:
    """Actility's uplink token: hex SHA-256 of CustomerID, DevEUI, FPort, FCntUp and payload_hex of
    the DevEUI_uplink document, then the query string without Token, then the AS key."""
    up = body.get("DevEUI_uplink") if isinstance(body, dict) else None
    up = up if isinstance(up, dict) else {}
    elements = "".join(str(up.get(k, "")) for k in ("CustomerID", "DevEUI", "FPort", "FCntUp", "payload_hex"))
    return hashlib.sha256((elements + query_without_token + as_key).encode()).hexdigest()


def _parse_time(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class ThingParkIntegration(HttpFamilyIntegration):
    kind, label = "THINGPARK", "ThingPark"
    endpoint = "thingpark"
    config_model = ThingParkConfig
    secret_fields = ("asKey", "clientSecret", *HEADER_FILTER_SECRETS)
    api_downlink = True

    def headers_match(self, headers) -> bool:
        return True  # ThingPark's enableSecurity is the AS key, not a header filter

    def refuse(self, headers, body: bytes, query: str) -> str | None:
        """With ``enableSecurity``: the request's Token must be Actility's uplink token signed with
        ``asKey``, and its Time within ``maxTimeDiffInSeconds`` of ours."""
        c = self.config
        if not c.enableSecurity or not c.asKey:
            return None
        parts = query.split("&") if query else []
        given = next((p[6:] for p in parts if p.startswith("Token=")), "")
        if not given:
            return "The request has no Token query parameter (ThingPark AS security is on)"
        rest = "&".join(p for p in parts if not p.startswith("Token="))
        params = urllib.parse.parse_qs(rest)
        as_id = params.get("AS_ID", [""])[0]
        if as_id != (self._as()[0] or as_id):
            return f"AS_ID '{as_id[:64]}' is not this integration's"
        sent = _parse_time(params.get("Time", [""])[0])
        if sent is None or abs(time.time() - sent) > c.maxTimeDiffInSeconds:
            return f"The request's Time is missing or more than {c.maxTimeDiffInSeconds} s off"
        try:
            document = json.loads(body)
        except ValueError:
            return "The body is not a ThingPark JSON document"
        wanted = {uplink_token(document, q, c.asKey) for q in (rest, urllib.parse.unquote(rest))}
        if not any(hmac.compare_digest(given.lower(), token) for token in wanted):
            return "The Token does not match the request and the AS key"
        return None

    def _as(self) -> tuple[str, str]:
        c = self.config
        return (c.asIdNew or c.asId, c.asKey) if c.enableSecurityNew else (c.asId, c.asKey)

    def _bearer(self) -> dict[str, str]:
        return {}

    def deliver(self, downlink: Downlink) -> None:
        url = self.config.downlinkUrl
        if not url:
            raise IntegrationError("configuration.downlinkUrl is empty: ThingPark downlinks need it", permanent=True)
        eui, port = lorawan_target(downlink)
        as_id, as_key = self._as()
        query = actility_query(eui, port, payload_hex(downlink), as_id, as_key)
        separator = "&" if "?" in url else "?"
        call("POST", f"{url}{separator}{query}", headers={**JSON_HEADERS, **self._bearer()}, body=b"",
             what=self.label)


class TpeIntegration(ThingParkIntegration):
    kind, label = "TPE", "ThingPark Enterprise"
    endpoint = "tpe"

    def token_url(self) -> str:
        if self.config.tokenUrl:
            return self.config.tokenUrl
        parts = urllib.parse.urlsplit(self.config.downlinkUrl)
        return f"{parts.scheme}://{parts.netloc}/users-auth/protocol/openid-connect/token"

    def _bearer(self) -> dict[str, str]:
        c = self.config
        if not (c.enableSecurityNew and c.clientIdNew and c.clientSecret):
            return {}
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": c.clientIdNew,
                                       "client_secret": c.clientSecret}).encode()
        _, body = call("POST", self.token_url(), headers={"Content-Type": "application/x-www-form-urlencoded",
                                                          "Accept": "application/json"},
                       body=form, what=f"{self.label} token endpoint")
        try:
            token = json.loads(body)["access_token"]
        except (ValueError, KeyError, TypeError):
            raise IntegrationError(f"{self.label} token endpoint returned no access_token") from None
        return {"Authorization": f"Bearer {token}"}


# --- ChirpStack ---------------------------------------------------------------------------------------

class ChirpStackClient(BaseModel):
    model_config = ConfigDict(extra="allow")
    baseUrl: str = ""
    httpEndpoint: str = ""
    applicationServerUrl: str = ""
    applicationServerAPIToken: str = ""
    useAPI4Plus: bool = True


class ChirpStackConfig(TypeConfig):
    clientConfiguration: ChirpStackClient = ChirpStackClient()


#: ChirpStack v4 HTTP integration events (``?event=``); only ``up`` carries a device payload
CHIRPSTACK_EVENTS = frozenset({"up", "join", "status", "ack", "txack", "log", "location", "integration"})


class ChirpStackIntegration(HttpFamilyIntegration):
    kind, label = "CHIRPSTACK", "ChirpStack"
    endpoint = "chirpstack"
    config_model = ChirpStackConfig
    secret_fields = ("clientConfiguration.applicationServerAPIToken",)
    api_downlink = True

    def headers_match(self, headers) -> bool:
        return True

    def uplink_metadata(self, query: str) -> dict[str, str] | None:
        """``up`` events are queued with ``event`` in their metadata; the others are acknowledged only."""
        event = urllib.parse.parse_qs(query).get("event", ["up"])[0]
        return {"event": "up"} if event == "up" else None

    def _client(self) -> ChirpStackClient:
        client = self.config.clientConfiguration
        if not client.applicationServerUrl:
            raise IntegrationError("clientConfiguration.applicationServerUrl is empty", permanent=True)
        return client

    def _headers(self, client: ChirpStackClient) -> dict[str, str]:
        return {**JSON_HEADERS, "Grpc-Metadata-Authorization": f"Bearer {client.applicationServerAPIToken}"}

    def deliver(self, downlink: Downlink) -> None:
        client = self._client()
        eui, port = lorawan_target(downlink)
        data = base64.b64encode(downlink.payload).decode()
        eui = eui.lower()
        if client.useAPI4Plus:
            item = {"queueItem": {"confirmed": confirmed(downlink), "fPort": port, "data": data}}
        else:
            item = {"deviceQueueItem": {"confirmed": confirmed(downlink), "fPort": port, "data": data, "devEUI": eui}}
        url = f"{client.applicationServerUrl.rstrip('/')}/api/devices/{eui}/queue"
        call("POST", url, headers=self._headers(client), body=json.dumps(item).encode(), what="ChirpStack")

    def check(self) -> None:
        """The REST API answers and takes the token (401/403: refused)."""
        client = self._client()
        url = f"{client.applicationServerUrl.rstrip('/')}/api/tenants?limit=1"
        try:
            call("GET", url, headers=self._headers(client), what="ChirpStack")
        except IntegrationError as e:
            if " 401 " in e.message or " 403 " in e.message:
                raise IntegrationError(f"ChirpStack refused the API token: {e.message}", permanent=True) from None
            if not e.permanent:
                raise
            # another 4xx: the server is there and took the token (a tenant key may not list tenants)


# --- LORIOT -------------------------------------------------------------------------------------------

class LoriotCredentials(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "token"
    token: str = ""
    username: str = ""
    password: str = ""


class LoriotConfig(HttpFamilyConfig):
    createLoriotOutput: bool = False
    sendDownlink: bool = False
    server: str = "eu1"
    domain: str = "loriot.io"
    appId: str = ""
    token: str = ""
    credentials: LoriotCredentials = LoriotCredentials()
    loriotDownlinkUrl: str = ""


class LoriotIntegration(HttpFamilyIntegration):
    kind, label = "LORIOT", "LORIOT"
    endpoint = "loriot"
    config_model = LoriotConfig
    secret_fields = ("token", "credentials.token", "credentials.password", *HEADER_FILTER_SECRETS)
    api_downlink = True

    def downlink_url(self) -> str:
        c = self.config
        return c.loriotDownlinkUrl or f"https://{c.server}.{c.domain}/1/rest"

    def _authorization(self) -> str:
        c = self.config
        if c.credentials.type == "basic":
            raw = f"{c.credentials.username}:{c.credentials.password}".encode()
            return f"Basic {base64.b64encode(raw).decode()}"
        token = c.credentials.token or c.token
        if not token:
            raise IntegrationError("LORIOT downlinks need an API token (credentials.token)", permanent=True)
        return f"Bearer {token}"

    def deliver(self, downlink: Downlink) -> None:
        c = self.config
        if not c.sendDownlink:
            raise IntegrationError("sendDownlink is off in this LORIOT integration's configuration", permanent=True)
        eui, port = lorawan_target(downlink)
        body = {"cmd": "tx", "EUI": eui, "port": port, "confirmed": confirmed(downlink),
                "data": payload_hex(downlink), "appid": c.appId}
        call("POST", self.downlink_url(), headers={**JSON_HEADERS, "Authorization": self._authorization()},
             body=json.dumps(body).encode(), what="LORIOT")
