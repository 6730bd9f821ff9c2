"""The converters library's git checkout and its catalogue (a repository built on disk)."""

import logging
import os
import time

import pytest

from converters.library import repo
from converters.library.catalogue import catalogue_of, integration_type_of
from converters.tasks import refresh_converters_library
from converters.tests.library_repo import commit


def test_it_clones_the_branch_and_points_current_at_it(library, settings):
    current = repo.current_path()
    assert (current / "VENDORS" / "Elsys" / "ERS").is_dir()
    status = repo.status()
    assert status["url"] == f"file://{library}" and status["branch"] == "main" and len(status["commit"]) == 12


def test_it_clones_again_only_when_the_branch_moved(library):
    first = repo.current_path()
    repo.refresh()
    assert repo.current_path() == first
    (library / "VENDORS" / "Elsys" / "info.json").write_text('{"url": "https://elsys.se"}')
    head = commit(library, "vendor url")
    repo.refresh()
    second = repo.current_path()
    assert second != first and second.name.endswith(head[:12]) and not first.exists()


def test_a_failed_refresh_keeps_the_checkout_in_use(library, settings):
    current = repo.current_path()
    settings.CONVERTERS_LIBRARY_REPO_BRANCH = "no-such-branch"
    with pytest.raises(repo.LibraryError, match="branch 'no-such-branch' not found"):
        repo.refresh()
    settings.CONVERTERS_LIBRARY_REPO_URL = f"file://{library}-missing"
    with pytest.raises(repo.LibraryError, match="git ls-remote failed"):
        repo.refresh()
    assert repo.current_path() == current


def test_an_empty_url_disables_the_library(library, settings):
    settings.CONVERTERS_LIBRARY_REPO_URL = ""
    with pytest.raises(repo.LibraryError, match="disabled"):
        repo.refresh()
    assert repo.refresh_if_stale() is None


def test_the_periodic_job_refreshes_only_when_stale(library, settings, caplog):
    first = repo.current_path()
    (library / "README.md").write_text("changed\n")
    commit(library, "readme")
    assert refresh_converters_library() is None  # checked less than CONVERTERS_LIBRARY_REFRESH_HOURS ago
    assert repo.current_path() == first
    checked = repo._root() / ".checked"
    os.utime(checked, (time.time() - 25 * 3600,) * 2)
    assert refresh_converters_library()["commit"] != first.name.partition("-")[2]
    settings.CONVERTERS_LIBRARY_REPO_URL = "file:///nowhere/at/all"
    with caplog.at_level(logging.WARNING):
        assert refresh_converters_library(force=True) is None
    assert "converters library not refreshed" in caplog.text


def test_the_catalogue_reads_thingsboards_layout(library):
    catalogue = catalogue_of(repo.current_path())
    assert catalogue.vendors("CHIRPSTACK") == ["Elsys"]
    assert catalogue.vendors("TTN") == ["Elsys"]  # from the older ThingsStackCommunity folder
    assert catalogue.vendors("LORIOT") == ["Acme"] and catalogue.models("LORIOT", "Acme") == ["Frame", "TbelOnly"]
    assert catalogue.vendors("CHIRPSTACK", "DOWNLINK") == [] and catalogue.vendors("MQTT") == []
    entry = catalogue.entry("CHIRPSTACK", "Elsys", "ERS")
    assert entry.converter["name"] == "ChirpStack Uplink Converter for Elsys ERS"  # not the old-layout copy
    assert entry.metadata == {"integrationName": "ChirpStack integration"}
    frame = catalogue.entry("LORIOT", "Acme", "Frame").samples()[0]
    assert frame.name == "payload.hex" and b'"EUI"' in frame.payload
    http = catalogue.entry("HTTP", "Dragino", "LHT65").samples()
    assert [(s.name, s.expected_name) for s in http] == [("payload.base64", "result.json"),
                                                          ("payload_1.txt", "result_1.json")]


@pytest.mark.parametrize(("folder", "kind"), [
    ("CHIRPSTACK", "CHIRPSTACK"), ("ChirpStack", "CHIRPSTACK"), ("ThingsStackCommunity", "TTN"),
    ("ThingsStackIndustries", "TTI"), ("Loriot", "LORIOT"), ("ThingParkEnterprise", "TPE"), ("OPC_UA", "OPC_UA"),
    ("guide", None), ("uplink", None),
])
def test_it_maps_folder_names_to_integration_types(folder, kind):
    assert integration_type_of(folder) == kind
