"""env.py: typed readers; a bad value fails at boot and names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tbproject.env import env_bool, env_float, env_int, env_list, env_secret, env_str


@pytest.mark.parametrize("raw, expected", [("1", True), ("TRUE", True), (" yes ", True), ("on", True),
                                           ("0", False), ("false", False), ("No", False), ("", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("TB_FLAG", raw)
    assert env_bool("TB_FLAG", not expected) is expected


def test_it_uses_defaults_when_unset(monkeypatch):
    for name in ("TB_FLAG", "TB_INT", "TB_FLOAT", "TB_LIST", "TB_STR", "TB_SECRET", "TB_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert env_bool("TB_FLAG", True) is True
    assert env_int("TB_INT", 7) == 7
    assert env_float("TB_FLOAT", 0.5) == 0.5
    assert env_list("TB_LIST", ["a"]) == ["a"]
    assert env_str("TB_STR", "x") == "x"
    assert env_secret("TB_SECRET", "s") == "s"


def test_it_reads_numbers_and_lists(monkeypatch):
    monkeypatch.setenv("TB_INT", " 42 ")
    monkeypatch.setenv("TB_FLOAT", "2.5")
    monkeypatch.setenv("TB_LIST", "a.example, b.example,,")
    assert env_int("TB_INT", 0) == 42
    assert env_float("TB_FLOAT", 0) == 2.5
    assert env_list("TB_LIST") == ["a.example", "b.example"]


@pytest.mark.parametrize("reader, raw", [
    (lambda: env_bool("TB_BAD", False), "maybe"),
    (lambda: env_int("TB_BAD", 1), "ten"),
    (lambda: env_int("TB_BAD", 1, minimum=60), "59"),
    (lambda: env_float("TB_BAD", 1.0), "1,5"),
])
def test_it_names_the_variable_of_a_bad_value(monkeypatch, reader, raw):
    monkeypatch.setenv("TB_BAD", raw)
    with pytest.raises(ImproperlyConfigured, match="TB_BAD"):
        reader()


def test_it_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("s3cret\n")
    monkeypatch.setenv("TB_SECRET", "from-env")
    monkeypatch.setenv("TB_SECRET_FILE", str(path))
    assert env_secret("TB_SECRET") == "s3cret"


def test_it_names_the_variable_when_the_secret_file_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("TB_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="TB_SECRET_FILE"):
        env_secret("TB_SECRET")


@pytest.mark.parametrize("name, raw", [("DEBUG", "maybe"), ("JWT_TOKEN_EXPIRATION_TIME", "10"),
                                       ("TELEMETRY_TTL_DAYS", "a year")])
def test_it_fails_at_boot_on_a_bad_setting(name, raw):
    env = {**os.environ, name: raw}
    proc = subprocess.run([sys.executable, "-c", "import tbproject.settings"], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and name in proc.stderr
