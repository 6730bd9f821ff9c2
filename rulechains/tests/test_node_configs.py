"""Bad node configurations, property-based: for every node type, whatever JSON object a chain
import carries as its configuration, clean_config accepts it or raises ConfigError naming the
problem (a 400 on import), never another exception (a 500)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError

KEYS = st.sampled_from([
    "scriptLang", "jsScript", "tbelScript", "alarmType", "severity", "alarmDetailsBuildJs", "alarmDetailsBuildTbel",
    "ruleChainId", "forwardMsgToDefaultRuleChain", "latestTsKeyNames", "fetchMode", "aggregation", "orderBy",
    "startInterval", "startIntervalTimeUnit", "endInterval", "endIntervalTimeUnit", "limit", "periodValue",
    "periodTimeUnit", "periodInSeconds", "maxPendingMsgs", "usePeriodValuePattern", "periodValuePattern",
    "msgCount", "originatorId", "originatorType", "topicPattern", "host", "port", "credentials", "ssl",
    "bootstrapServers", "acks", "linger", "batchSize", "messageProperties", "exchangeNamePattern", "defaultTTL",
    "scope", "dataMapping", "fetchTo", "restEndpointUrlPattern", "requestMethod", "headers", "integrationId",
    "relationTypes", "useMessageAlarmData", "connectTimeoutSec", "protocolVersion",
    "messageTypes", "originatorTypes", "messageNames", "metadataNames", "checkAllKeys", "direction",
    "checkForSingleEntity", "entityType", "entityId", "relationType", "alarmStatusList", "queueName",
    "entityNamePattern", "entityTypePattern", "createEntityIfNotExists", "removeCurrentRelations",
    "changeOriginatorToRelatedEntity", "entityCacheExpiration", "deleteForSingleEntity", "customerNamePattern",
    "createCustomerIfNotExists", "customerCacheExpiration", "groupNamePattern", "createGroupIfNotExists",
    "removeFromCurrentGroups", "groupCacheExpiration", "keys", "sendAttributesDeletedNotification", "notifyDevice",
    "dataToFetch", "attrMapping", "telemetry", "relationsQuery", "maxLevel", "fetchLastLevelOnly", "filters",
    "entityTypes", "detailsList", "addToMetadata", "fetchToMetadata", "originatorSource", "interval", "strategy",
    "outMsgType", "maxRetries", "telemetryPrefix", "fromTemplate", "toTemplate", "ccTemplate", "bccTemplate",
    "subjectTemplate", "bodyTemplate", "isHtmlTemplate", "mailBodyType", "useSystemSmtpSettings", "smtpHost",
    "smtpPort", "username", "password", "smtpProtocol", "timeout", "enableTls", "tlsVersion", "enableProxy",
    "proxyHost", "proxyPort", "proxyUser", "proxyPassword", "copyFrom", "fromMetadata", "renameIn",
    "renameKeysMapping", "deleteFrom", "jsonPath", "operation", "arguments", "customFunction", "result",
    "inputValueKey", "outputValueKey", "useCache", "addPeriodBetweenMsgs", "periodValueKey", "round",
    "tellFailureIfDeltaIsNegative", "excludeZeroDeltas", "name", "type", "key", "attributeScope", "defaultValue",
    "resultValuePrecision", "addToBody",
    "latitudeKeyName", "longitudeKeyName", "perimeterType", "fetchPerimeterInfoFromMessageMetadata",
    "perimeterKeyName", "polygonsDefinition", "centerLatitude", "centerLongitude", "range", "rangeUnit",
    "minInsideDuration", "minInsideDurationTimeUnit", "minOutsideDuration", "minOutsideDurationTimeUnit",
    "reportPresenceStatusOnEachMessage", "deviceRelationsQuery", "deviceTypes", "fetchToData",
    "tellFailureIfAbsent", "clientAttributeNames", "sharedAttributeNames", "serverAttributeNames",
    "getLatestValueWithTs",
    "topicArnPattern", "accessKeyId", "secretAccessKey", "region", "endpointUrl", "queueType", "queueUrlPattern",
    "delaySeconds", "messageAttributes", "projectId", "topicName", "serviceAccountKey",
    "serviceAccountKeyFileName", "serviceIdMetaDataAttribute", "requestIdMetaDataAttribute",
    "numbersToTemplate", "smsMessageTemplate", "useSystemSmsSettings", "smsProviderConfiguration", "accountSid",
    "accountToken", "numberFrom", "botToken", "useSystemSettings", "messageTemplate", "conversationType",
    "conversation", "id", "clientId", "sasKey", "caCert"]) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**40), max_value=2**40)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=12)


@pytest.mark.parametrize("kind", NODES.kinds(), ids=lambda kind: kind.rpartition(".")[2])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configuration=st.dictionaries(KEYS, JSON, max_size=6))
def test_any_configuration_is_accepted_or_refused_with_a_config_error(kind, configuration):
    try:
        NODES.load(kind).clean_config(configuration)
    except ConfigError as e:
        assert str(e)
