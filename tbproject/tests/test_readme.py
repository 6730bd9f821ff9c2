"""The README's settings table must stay true to the settings package (tbproject/settings/) and the apps'
conf.py modules: every variable they read is documented, and the table documents nothing they no longer read."""

from tbproject.tests.deploy_files import ROOT, readme_settings, settings_sources, settings_variables


def test_every_environment_variable_of_the_settings_is_documented_in_the_readme():
    read, table = settings_variables(), readme_settings()
    assert read, "no env_* calls found in the settings"
    assert read - table == set(), "add these to the README settings table"
    assert table - read == set(), "the README documents variables the settings no longer read"


def test_it_reads_every_module_of_the_settings_package_and_the_apps_conf_modules():
    sources = {path.relative_to(ROOT).as_posix() for path in settings_sources()}
    assert {"tbproject/settings/__init__.py", "tbproject/settings/base.py", "tbproject/settings/database.py",
            "ai/conf.py", "notifications/conf.py"} <= sources
    assert not (ROOT / "tbproject" / "settings.py").exists()  # a settings.py beside the package would be ignored
    # variables of several modules, so a reader of one file only fails here
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL", "JWT_ISSUER", "LOG_LEVEL", "AI_MAX_RETRIES",
            "NOTIFICATION_HTTP_TIMEOUT"} <= settings_variables()
