"""White labeling, custom translations and custom menus through ThingsBoard's own generated client
(tb-pe-client) against a real server: its requests are accepted and its models read the answers."""

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import CustomMenuConfig, CustomMenuInfo, WhiteLabelingParams

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_and_reads_white_labeling_through_the_client(client):  # noqa: F811
    saved = client.save_white_label_params(WhiteLabelingParams(app_title="Client IoT", logo_image_height=30))
    assert saved.app_title == "Client IoT"
    assert client.get_current_white_label_params().logo_image_height == 30
    assert client.get_white_label_params().app_title == "Client IoT"
    assert client.is_white_labeling_allowed() is True
    assert client.is_customer_white_labeling_allowed() is True
    preview = client.preview_white_label_params(WhiteLabelingParams(app_title="Preview"))
    assert preview.app_title == "Preview"
    client.delete_current_white_label_params()
    assert client.get_current_white_label_params().app_title is None
    with pytest.raises(ApiException) as refused:
        client.save_white_label_params(WhiteLabelingParams(logo_image_url="javascript:alert(1)"))
    assert refused.value.status == 400


def test_it_keeps_custom_translations_through_the_client(client):  # noqa: F811
    client.save_custom_translation("es_ES", {"home": {"home": "Inicio"}})
    client.patch_custom_translation("es_ES", {"home.extra": "Más"})
    assert client.get_custom_translation("es_ES") == {"home": {"home": "Inicio", "extra": "Más"}}
    client.delete_custom_translation_key("es_ES", "home.extra")
    assert client.get_full_translation("es_ES")["home"]["home"] == "Inicio"
    assert {info.locale_code for info in client.get_translation_infos()} == {"en_US", "es_ES"}


def test_it_manages_custom_menus_through_the_client(client):  # noqa: F811
    menu = client.create_custom_menu(CustomMenuInfo(name="Client menu", scope="TENANT", assignee_type="ALL"))
    config = CustomMenuConfig.from_dict({"items": [{"type": "DEFAULT", "id": "devices", "name": "Meters"}]})
    saved = client.update_custom_menu_config(menu.id.id, config)
    assert saved.config.items[0].type == "DEFAULT"
    client.update_custom_menu_name(menu.id.id, "Renamed")
    assert client.get_custom_menu_info_by_id(menu.id.id).name == "Renamed"
    assert client.get_custom_menu_infos(page_size=10, page=0).total_elements == 1
    assert client.get_custom_menu() is not None
    assert client.get_custom_menu_assignee_list(menu.id.id) == []
    assert client.delete_custom_menu(menu.id.id, force=True).success is True
