"""ThingsBoard's own generated client (tb-pe-client) on the small platform routes against the real server: mobile
push sessions, Trendz's configuration and sync, a device's connectivity commands, LwM2M server info, queue stats,
alarm rules of an entity, the help URL, mail presets and EDQS' state.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Customer, Device, MobileSessionInfo, TrendzConfiguration

from tests.test_tb_client import SYSADMIN, SYSADMIN_PASSWORD, client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_the_client_keeps_a_mobile_session_and_a_trendz_configuration(client):  # noqa: F811
    client.save_mobile_session("fcm-client-token", MobileSessionInfo(fcm_token_timestamp=1_700_000_000_000))
    assert client.get_mobile_session("fcm-client-token").fcm_token_timestamp == 1_700_000_000_000
    client.remove_mobile_session("fcm-client-token")

    saved = client.save_trendz_config(TrendzConfiguration(trendz_url="https://trendz.client.test"))
    assert saved.trendz_url == "https://trendz.client.test" and client.get_trendz_config().tb_url is None
    assert client.get_trendz_sync_result().type == "SYNC_NOT_INITIALIZED"
    assert client.connect_to_trendz().type == "TRENDZ_URL_UNREACHABLE"
    assert client.perform_trendz_healthcheck().status == "NOT_AVAILABLE"
    with pytest.raises(ApiException) as bad:
        client.save_trendz_config(TrendzConfiguration(trendz_url="not a url"))
    assert bad.value.status == 400


def test_the_client_reads_a_devices_commands_and_the_platform_facts(client, server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    device = client.save_device(Device(name="platform-1", type="platform"))
    commands = client.get_device_publish_telemetry_commands(str(device.id.id))
    assert commands["http"]["http"].startswith("curl -v -X POST http://")
    assert b"TB_GW_ACCESS_TOKEN=" in bytes(client.download_gateway_docker_compose(str(device.id.id)))
    assert client.get_lwm2m_bootstrap_security_info(False).short_server_id == 123
    rules = client.get_alarm_rules_by_entity_id("DEVICE", str(device.id.id), page_size=10, page=0)
    assert rules.data == [] and rules.total_elements == 0
    assert client.get_help_base_url() == "https://thingsboard.io"
    assert {t["providerId"] for t in client.get_mail_config_templates()} >= {"GOOGLE", "OFFICE_365"}
    stats = client.get_tenant_queue_stats(page_size=10, page=0)  # rows as the rule engine ran the tenant's
    assert all(s.queue_name == "Main" for s in stats.data)
    client.save_customer(Customer(title="platform-customer"))
    titles = [c.title for c in client.get_user_customers(page_size="100", page="0", text_search="platform").data]
    assert titles == ["platform-customer"]
    with ThingsboardClient(server_url, SYSADMIN, SYSADMIN_PASSWORD, retry_on_rate_limit=False) as root:
        assert root.get_edqs_state().api_mode == "DISABLED"
