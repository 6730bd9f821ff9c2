"""`GET /api/integrations/converters/info`: per integration type of the type table, whether the
library and the tenant have uplink/downlink converters for it, in ThingsBoard's shape."""

import json

import pytest
from tb_pe_client.models import IntegrationConvertersInfo

from converters.models import Converter
from integrations.types import TYPES
from tbproject.testing.fixtures import api_as

URL = "/api/integrations/converters/info"


@pytest.fixture
def library(tmp_path, settings):
    """A loaded library checkout (converters/library/repo.py's layout, no git needed to read it)."""
    checkout = tmp_path / "library" / "1-abc"
    for folder, converter in [("Elsys/ERS/CHIRPSTACK/uplink", {"name": "ERS", "type": "UPLINK"}),
                              ("Elsys/ERS/ThingsStackCommunity/uplink", {"name": "ERS TTN", "type": "UPLINK"}),
                              ("Acme/Valve/MQTT/downlink", {"name": "Valve", "type": "DOWNLINK"}),
                              ("Acme/Valve/MQTT/uplink", {}),  # no converter.json: not an entry
                              ]:
        (checkout / "VENDORS" / folder).mkdir(parents=True)
        if converter:
            (checkout / "VENDORS" / folder / "converter.json").write_text(json.dumps(converter))
    (tmp_path / "library" / "current").symlink_to(checkout.name)
    settings.CONVERTERS_LIBRARY_DIR = str(tmp_path / "library")
    return checkout


@pytest.fixture
def empty_library(tmp_path, settings):
    settings.CONVERTERS_LIBRARY_DIR = str(tmp_path / "never-loaded")


def _converter(tenant, name, direction, kind):
    return Converter.objects.create(tenant=tenant, name=name, type=direction, integration_type=kind,
                                    configuration={"scriptLang": "JS", "decoder": "return {};",
                                                   "encoder": "return {};"})


def test_every_type_is_answered_in_thingsboards_shape(api, empty_library):
    info = api.get(URL).json()
    assert sorted(info) == sorted(TYPES.kinds())
    for kind, value in info.items():
        assert value == {"uplink": {"library": False, "existing": False},
                         "downlink": {"library": False, "existing": False}}, kind
        assert IntegrationConvertersInfo.from_dict(value).uplink.existing is False  # the client's model reads it


def test_existing_converters_count_for_their_type_and_direction_in_the_tenant_only(
        api, empty_library, tenant, other_tenant):
    _converter(tenant, "mqtt decoder", "UPLINK", "MQTT")
    _converter(tenant, "http encoder", "DOWNLINK", "HTTP")
    _converter(tenant, "for every type", "UPLINK", None)  # "All" in ThingsBoard's UI: dedicated to none
    _converter(other_tenant, "mallory's tcp decoder", "UPLINK", "TCP")
    info = api.get(URL).json()
    assert info["MQTT"] == {"uplink": {"library": False, "existing": True},
                            "downlink": {"library": False, "existing": False}}
    assert info["HTTP"] == {"uplink": {"library": False, "existing": False},
                            "downlink": {"library": False, "existing": True}}
    assert info["TCP"]["uplink"]["existing"] is False
    assert sorted(k for k, v in info.items() if v["uplink"]["existing"] or v["downlink"]["existing"]) == [
        "HTTP", "MQTT"]


def test_library_entries_count_for_their_type_and_direction(api, library, tenant):
    _converter(tenant, "chirpstack decoder", "UPLINK", "CHIRPSTACK")
    info = api.get(URL).json()
    assert info["CHIRPSTACK"] == {"uplink": {"library": True, "existing": True},
                                  "downlink": {"library": False, "existing": False}}
    assert info["TTN"]["uplink"]["library"] is True  # the library's older folder name of the type
    assert info["MQTT"] == {"uplink": {"library": False, "existing": False},
                            "downlink": {"library": True, "existing": False}}
    assert sorted(k for k, v in info.items() if v["uplink"]["library"] or v["downlink"]["library"]) == [
        "CHIRPSTACK", "MQTT", "TTN"]


def test_it_is_for_tenant_administrators(customer_api, anon, sysadmin, empty_library):
    assert customer_api.get(URL).status_code == 403
    assert api_as(sysadmin).get(URL).status_code == 403
    assert anon.get(URL).status_code == 401
