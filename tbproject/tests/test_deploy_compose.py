"""compose.yaml, checked without a Docker engine (none on this machine): Compose's own validation
(`docker-compose config`, Debian package docker-compose), and read here: it runs the README's
command of each process with the variables the settings (tbproject/settings/) read, and orders the start by health."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tbproject.tests.deploy_files import ROOT, readme_commands, readme_settings, settings_variables

#: compose service -> the README table's process
PROCESSES = {"web": "web", "worker": "worker", "beat": "beat", "runintegrations": "integrations",
             "rundevicemqtt": "devicemqtt", "rundevicecoap": "devicecoap"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_it_has_the_database_redis_and_every_process():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "migrate", *PROCESSES}
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert services["redis"]["image"].startswith("redis:")


def test_each_process_runs_its_readme_command():
    services, commands = _compose()["services"], readme_commands()
    assert set(PROCESSES.values()) == set(commands)
    for service, process in PROCESSES.items():
        assert services[service]["command"] == commands[process], service


def test_the_web_port_is_the_one_the_command_listens_on():
    web = _compose()["services"]["web"]
    port = web["command"][web["command"].index("--port") + 1]
    assert web["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/healthz" in " ".join(web["healthcheck"]["test"])


def test_the_device_mqtt_port_is_published():
    assert _compose()["services"]["rundevicemqtt"]["ports"] == ["1883:1883", "8883:8883"]  # 8883: MQTT over TLS


def test_the_device_coap_port_is_published_over_udp():
    assert _compose()["services"]["rundevicecoap"]["ports"] == ["5683:5683/udp"]


def test_every_variable_given_to_the_application_is_one_settings_reads_and_the_readme_documents():
    services, read, documented = _compose()["services"], settings_variables(), readme_settings()
    for name in (*PROCESSES, "migrate"):
        env = services[name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN"} <= set(env), name
        assert set(env) - read == set(), name
        assert set(env) - documented == set(), name
        assert env["DATABASE_URL"].split("@", 1)[1] == "db:5432/tb" and env["REDIS_URL"].startswith("redis://redis:")
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default key in production


def test_the_database_password_is_one_variable_for_both_sides():
    services = _compose()["services"]
    password = services["db"]["environment"]["POSTGRES_PASSWORD"]
    assert re.search(r"postgres://tb:(.+)@db", services["web"]["environment"]["DATABASE_URL"]).group(1) == password


def test_the_processes_start_after_healthy_peers_and_the_migrations():
    services = _compose()["services"]
    for peer in ("db", "redis"):
        assert services[peer]["healthcheck"]["test"][0] == "CMD"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"},
                                                 "redis": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"][-1] == ("python manage.py migrate --noinput && "
                                                  "python manage.py collectstatic --noinput")
    for name in PROCESSES:
        assert services[name]["depends_on"] == {"db": {"condition": "service_healthy"},
                                                "redis": {"condition": "service_healthy"},
                                                "migrate": {"condition": "service_completed_successfully"}}, name
        assert services[name]["restart"] == "unless-stopped", name


def test_the_image_is_laid_out_as_the_systemd_units_expect():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "WORKDIR /opt/tb" in dockerfile and "ENV PATH=/opt/tb/.venv/bin:$PATH" in dockerfile
    assert "-r requirements.txt" in dockerfile
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1))
    assert cmd == readme_commands()["web"]  # `docker run` alone serves the web process
    assert {s.get("build") for s in _compose()["services"].values() if "command" in s and "image" in s
            and s["image"].startswith("open-integration-center")} == {"."}


def _compose_config(path, **env):
    return subprocess.run(["docker-compose", "-f", str(path), "config", "-q"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env={**os.environ, "SECRET_KEY": "", **env})


needs_compose = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                   reason="needs docker-compose (Debian package docker-compose; .ci/run installs it)")


@needs_compose
def test_compose_validates_the_file_and_refuses_it_without_a_secret_key():
    done = _compose_config(ROOT / "compose.yaml", SECRET_KEY="a-long-random-string")
    assert (done.returncode, done.stderr) == (0, "")
    done = _compose_config(ROOT / "compose.yaml")  # SECRET_KEY empty: no default key in production
    assert done.returncode != 0 and "set SECRET_KEY" in done.stderr


@needs_compose
def test_compose_validation_fails_on_a_broken_file(tmp_path):
    """The check above can fail: an unknown depends_on condition."""
    broken = tmp_path / "compose.yaml"
    broken.write_text((ROOT / "compose.yaml").read_text().replace("service_completed_successfully", "service_done"))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = _compose_config(broken, SECRET_KEY="x")
    assert done.returncode != 0 and "service_done" in done.stderr
