"""ThingsBoard's own generated client (tb-pe-client ``SecretControllerApi``) against the real server: every
call of the controller, its answers read into the client's models, the value never in them."""

import uuid

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Secret, SecretInfo

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_the_client_manages_a_secret_end_to_end(client):  # noqa: F811
    name = f"clientPass-{uuid.uuid4().hex[:6]}"
    info = client.save_secret(Secret(name=name, type="TEXT", value="first-value", description="for MQTT"))
    assert isinstance(info, SecretInfo) and info.name == name and info.type == "TEXT"
    assert info.id.entity_type == "SECRET" and info.description == "for MQTT" and info.created_time > 0
    secret_id = info.id.id
    assert client.get_secret_info_by_id(secret_id).name == name
    assert client.get_secret_info_by_name(name).id.id == secret_id
    assert name in client.get_secret_names()
    page = client.get_secret_infos(page_size=10, page=0, text_search=name[:12], sort_property="name",
                                   sort_order="ASC")
    assert [s.name for s in page.data] == [name] and page.total_elements == 1 and page.has_next is False
    updated = client.update_secret_value(secret_id, "second-value")
    assert updated.name == name and "second-value" not in updated.to_json()
    assert client.update_secret_description(secret_id, "rotated").description == "rotated"
    result = client.delete_secret(secret_id)
    assert result.success is True
    with pytest.raises(ApiException) as missing:
        client.get_secret_info_by_id(secret_id)
    assert missing.value.status == 404


def test_the_client_sees_a_refused_delete_with_its_references(client):  # noqa: F811
    from tb_pe_client.models import Converter, Integration

    name = f"usedPass-{uuid.uuid4().hex[:6]}"
    info = client.save_secret(Secret(name=name, type="TEXT", value="v"))
    converter = client.save_converter(Converter(
        name=f"secret-user-{name}", type="UPLINK", configuration={"scriptLang": "JS", "decoder": "return null;"}))
    integration = client.save_integration(Integration(
        name=f"uses-{name}", type="HTTP", default_converter_id=converter.id, routing_key=uuid.uuid4().hex,
        enabled=False, configuration={"baseUrl": "http://localhost", "metadata": {},
                                      "headersFilter": {"X-Key": f"${{secret:{name};type:TEXT}}"}}))
    with pytest.raises(ApiException) as refused:
        client.delete_secret(info.id.id)
    assert refused.value.status == 400 and f"uses-{name}" in refused.value.body
    client.delete_integration(str(integration.id.id))
    assert client.delete_secret(info.id.id).success is True
