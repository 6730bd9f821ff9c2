"""Google Cloud Pub/Sub integration (ThingsBoard's ``PUB_SUB``): a streaming-pull subscriber.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``projectId``,
``subscriptionId`` (an existing pull subscription), ``serviceAccountKey`` (the text of the
service account's JSON key file; write-only) and ``serviceAccountKeyFileName`` (its file name,
for display). ThingsBoard documents no defaults: all three are required. A key that is not a
service-account key JSON Google's auth library can load is refused when the integration is
saved. ``downlinkTopicName`` (ours; ThingsBoard's draft downlink section names the field
"Downlink topic name") is the topic downlinks are published to.

A message is acknowledged only once it is durably queued in our pipeline; one that is not is
negatively acknowledged, and one whose listener died is redelivered by Pub/Sub when its ack
deadline passes (at least once; duplicates are possible, losses are not).

Uplink metadata: ``integrationName``, the configuration's ``metadata`` and ``pubSubMsgId`` (the
message id Pub/Sub assigned), as ThingsBoard documents. Downlinks are published to
``downlinkTopicName`` in ``projectId`` (or a full ``projects/.../topics/...`` name) with the
encoder's metadata as message attributes. Where the environment names ``PUBSUB_EMULATOR_HOST``,
Google's client talks to that emulator (or Google's pstest fake) without credentials. The
connection lives in integrations/listeners/pubsub.py.
"""

import json

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["PubSubConfig", "PubSubIntegration", "load_key"]

SCOPES = ("https://www.googleapis.com/auth/pubsub",)


def load_key(text: str):
    """google.oauth2 service-account credentials from the key's JSON text; ValueError saying what is
    wrong, never quoting the key."""
    from google.oauth2 import service_account

    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the service account key is not JSON (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError):  # a number beyond int's digit limit, nesting too deep: no position
        raise ValueError("the service account key is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ValueError('the service account key is not a service-account key file (no "type": "service_account")')
    missing = [k for k in ("client_email", "private_key", "token_uri") if not isinstance(info.get(k), str)]
    if missing:
        raise ValueError(f"the service account key lacks {', '.join(missing)}")
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except Exception:  # its message could quote the key
        raise ValueError("the service account key's private_key is not a valid PEM private key") from None


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    projectId: str = Field(min_length=1)
    subscriptionId: str = Field(min_length=1, description="An existing pull subscription")
    serviceAccountKey: str = Field(min_length=1, description="The service account's JSON key file, pasted whole")
    serviceAccountKeyFileName: str = ""
    downlinkTopicName: str = Field("", description="Topic downlinks are published to (a topic id or projects/…)")

    @field_validator("serviceAccountKey")
    @classmethod
    def _loadable(cls, value: str) -> str:
        load_key(value)
        return value

    @property
    def subscription_path(self) -> str:
        return f"projects/{self.projectId.strip()}/subscriptions/{self.subscriptionId.strip()}"

    @property
    def downlink_topic_path(self) -> str:
        topic = self.downlinkTopicName.strip()
        if not topic or topic.startswith("projects/"):
            return topic
        return f"projects/{self.projectId.strip()}/topics/{topic}"


class PubSubConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class PubSubIntegration(ClientListenerIntegration):
    kind, label = "PUB_SUB", "Google Pub/Sub"
    config_model = PubSubConfig
    secret_fields = ("clientConfiguration.serviceAccountKey",)

    listener_class = "integrations.listeners.pubsub.PubSubListener"
    probe_function = "integrations.listeners.pubsub.probe"
