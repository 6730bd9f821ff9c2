"""AWS IoT Core: an MQTT client of the account's device data endpoint (``xxxx-ats.iot.<region>
.amazonaws.com``), authenticated by an X.509 client certificate, as ThingsBoard's AWS_IOT
integration is.

TLS on port 8883 always (``port`` may override it, for a test broker); no username or password
(AWS IoT ignores them on 8883: the certificate and its attached policy decide). ``caCert`` is
the Amazon Root CA; empty means the system's CAs, which include it. Uplinks, metadata (``topic``)
and downlinks (``downlinkTopicPattern``, QoS 1) are the MQTT integration's.
"""

from typing import Literal

from pydantic import Field

from integrations.types.mqtt import ClientConfiguration, Credentials, MqttConfig
from integrations.types.mqtt_family import MqttFamilyIntegration

__all__ = ["AwsIotConfig", "AwsIotIntegration"]


class AwsCredentials(Credentials):
    type: Literal["cert.PEM"] = "cert.PEM"
    cert: str = Field(min_length=1, description="the thing's certificate, PEM")
    privateKey: str = Field(min_length=1, description="its private key, PEM")


class AwsClientConfiguration(ClientConfiguration):
    port: int = Field(8883, ge=1, le=65535)
    credentials: AwsCredentials


class AwsIotConfig(MqttConfig):
    clientConfiguration: AwsClientConfiguration


class AwsIotIntegration(MqttFamilyIntegration):
    kind, label = "AWS_IOT", "AWS IoT"
    cloud = "AWS IoT"
    auth_hint = "check that the certificate is active and its policy allows iot:Connect for this client id"
    check_with_client_id = True
    config_model = AwsIotConfig
    secret_fields = ("clientConfiguration.credentials.privateKey", "clientConfiguration.credentials.privateKeyPassword")

    def connection_config(self) -> MqttConfig:
        cc = self.config.clientConfiguration
        credentials = Credentials(type="cert.PEM", caCert=cc.credentials.caCert, cert=cc.credentials.cert,
                                  privateKey=cc.credentials.privateKey,
                                  privateKeyPassword=cc.credentials.privateKeyPassword)
        client = ClientConfiguration(**{**cc.model_dump(include=set(ClientConfiguration.model_fields)),
                                        "ssl": True, "credentials": credentials})
        return MqttConfig(clientConfiguration=client, topicFilters=self.config.topicFilters,
                          downlinkTopicPattern=self.config.downlinkTopicPattern, metadata=self.config.metadata)
