"""The KAFKA integration's configuration without a peer: ThingsBoard's defaults and validation,
SASL and TLS properties mapped onto the client, the password write-only."""


import pytest

from integrations.tests.kafka_peer import config
from integrations.types.base import ConfigError
from integrations.types.kafka import KafkaConfig, KafkaIntegration, jaas_credentials


def test_the_configuration_has_thingsboards_defaults_and_is_validated():
    defaults = KafkaConfig.model_validate({"clientConfiguration": {}}).clientConfiguration
    assert (defaults.groupId, defaults.clientId, defaults.topics, defaults.bootstrapServers, defaults.pollInterval,
            defaults.autoCreateTopics) == ("group_id_1", "client_id_1", "my-topic-output", "localhost:9092", 5000,
                                           False)
    with pytest.raises(ConfigError, match="configuration.clientConfiguration: Field required"):
        KafkaIntegration.validate({})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.topics"):
        KafkaIntegration.validate(config("h:1", " , "))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.bootstrapServers"):
        KafkaIntegration.validate(config("no-port", "t"))
    with pytest.raises(ConfigError, match="Java key and trust stores are not supported"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"ssl.truststore.location": "/x.jks"}))
    with pytest.raises(ConfigError, match="GSSAPI is not supported"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"sasl.mechanism": "GSSAPI"}))
    with pytest.raises(ConfigError, match="must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"security.protocol": "SASL_KERBEROS"}))
    parsed = KafkaConfig.model_validate(config("a:1, b:2", "x, y,x", otherProperties={
        "session.timeout.ms": "7000", "linger.ms": 5})).clientConfiguration
    assert parsed.topic_names == ["x", "y"] and parsed.servers == ["a:1", "b:2"]
    assert parsed.consumer_options() == {"session_timeout_ms": 7000}

def test_thingsboards_sasl_and_tls_properties_map_onto_the_client_and_the_password_is_write_only():
    jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="p\\"w;1";'
    assert jaas_credentials(jaas) == ("bob", 'p"w;1')
    assert jaas_credentials("PlainLoginModule required username=alice password='two words';") == (
        "alice", "two words")
    cc = KafkaConfig.model_validate(config("h:1", "t", otherProperties={
        "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas,
        "ssl.endpoint.identification.algorithm": ""})).clientConfiguration
    options = cc.consumer_options()
    assert {k: options[k] for k in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                                    "sasl_plain_password")} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "bob",
        "sasl_plain_password": 'p"w;1'}
    assert options["ssl_context"].check_hostname is False and cc.uses_sasl
    plain = KafkaConfig.model_validate(config("h:1", "t")).clientConfiguration
    assert not plain.uses_sasl and "security_protocol" not in plain.consumer_options()
    stored = config("h:1", "t", otherProperties={"sasl.jaas.config": jaas, "sasl.mechanism": "PLAIN"})
    shown = KafkaIntegration.masked(stored)
    assert shown["clientConfiguration"]["otherProperties"] == {"sasl.jaas.config": "******", "sasl.mechanism": "PLAIN"}
    kept = KafkaIntegration.keep_secrets(shown, stored)
    assert kept["clientConfiguration"]["otherProperties"]["sasl.jaas.config"] == jaas
