"""The systemd units of deploy/systemd/: they verify with systemd-analyze, each runs the README's
command of its process, and tb.target groups them (the processes themselves run in
test_deploy_processes.py)."""

import re
import shutil
import subprocess

import pytest

from tbproject.tests.deploy_files import (
    ENV_FILE,
    PREFIX,
    ROOT,
    SERVICES,
    UNITS,
    exec_start,
    parse_unit,
    readme_commands,
    readme_form,
    readme_settings,
    unit_environment,
    values,
)

ALL_UNITS = sorted(p.name for p in UNITS.glob("tb*.service")) + ["tb.target"]


def _installed_copy(tmp_path, edit=lambda text: text):
    """The units as they would be installed, with this checkout as the prefix and files under tmp."""
    (tmp_path / "tb.env").write_text((UNITS / "tb.env.example").read_text())
    for name in ALL_UNITS:
        text = (UNITS / name).read_text().replace(PREFIX, str(ROOT)).replace(ENV_FILE, str(tmp_path / "tb.env"))
        (tmp_path / name).write_text(edit(text).replace("/var/lib/tb", str(tmp_path)))
    return [str(tmp_path / name) for name in ALL_UNITS]


def _verify(paths):
    return subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="needs systemd-analyze (Debian package systemd; apt-get install systemd)")
def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path):
    done = _verify(_installed_copy(tmp_path))
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="needs systemd-analyze (Debian package systemd; apt-get install systemd)")
def test_the_verification_fails_on_a_broken_unit(tmp_path):
    """The check above can fail: a command that is not there, an unknown key."""
    paths = _installed_copy(tmp_path, lambda t: t.replace("/.venv/bin/celery", "/.venv/bin/no-such-celery")
                            .replace("Restart=on-failure", "Restart=on-failure\nRestartTypo=1"))
    done = _verify(paths)
    assert done.returncode != 0
    assert "no-such-celery" in done.stderr and "RestartTypo" in done.stderr


def test_each_service_runs_the_readme_command_of_its_process():
    commands = readme_commands()
    assert set(commands) == set(SERVICES)
    for process, name in SERVICES.items():
        unit = parse_unit(UNITS / name)
        argv = exec_start(unit, unit_environment(unit), root=PREFIX)
        assert argv[0].startswith(f"{PREFIX}/.venv/bin/"), name
        assert readme_form(argv) == commands[process], name


def test_every_service_reads_the_environment_file_and_belongs_to_the_target():
    target = parse_unit(UNITS / "tb.target")
    wanted = " ".join(values(target, "Unit", "Wants")).split()
    assert sorted(wanted) == sorted(p.name for p in UNITS.glob("tb*.service"))
    for name in wanted:
        unit = parse_unit(UNITS / name)
        assert values(unit, "Service", "EnvironmentFile") == [ENV_FILE], name
        assert values(unit, "Service", "WorkingDirectory") == [PREFIX], name
        assert values(unit, "Unit", "PartOf") == ["tb.target"], name
        assert values(unit, "Install", "WantedBy") == ["tb.target"], name
        assert values(unit, "Service", "User") == ["tb"], name
        if name != "tb-migrate.service":  # the processes start after the migrations
            assert "tb-migrate.service" in values(unit, "Unit", "Requires"), name
            assert "tb-migrate.service" in " ".join(values(unit, "Unit", "After")), name
            assert values(unit, "Service", "Restart") == ["on-failure"], name


def test_the_migration_unit_migrates_and_collects_static_files_once():
    unit = parse_unit(UNITS / "tb-migrate.service")
    assert values(unit, "Service", "Type") == ["oneshot"]
    assert values(unit, "Service", "RemainAfterExit") == ["yes"]
    assert values(unit, "Service", "ExecStart") == [f"{PREFIX}/.venv/bin/python manage.py migrate --noinput",
                                                    f"{PREFIX}/.venv/bin/python manage.py collectstatic --noinput"]


def test_the_example_environment_file_sets_only_documented_variables():
    text = (UNITS / "tb.env.example").read_text()
    names = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    documented = readme_settings() | {"HOST", "PORT"}
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN"} <= names
    assert names - documented == set()
