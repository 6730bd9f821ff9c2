"""What the server reaches as a tenant's repository: remote URLs only (https, http, ssh, scp-style), never
a local path, file:// or git://; never a private, loopback, link-local or reserved address (also when the
name resolves elsewhere by the time of the connection); fixed messages, never the remote's text or the
URI's credentials; network timeouts; a bounded fetch; settings that cannot work over SSH refused."""

import threading
import uuid
from pathlib import Path

import pytest
from dulwich.repo import Repo

from tbproject.testing.api import assert_error
from transfer.tests.conftest import serve, stop
from transfer.tests.test_version_control import commit, complex_body, configure, make_entities

pytestmark = pytest.mark.django_db

SCHEMES = "https://"  # every refusal of a URI names the forms that are accepted


def save(api, uri, **extra):
    return api.post("/api/admin/repositorySettings", {"repositoryUri": uri, "defaultBranch": "main", **extra},
                    format="json")


def check(api, uri, **extra):
    return api.post("/api/admin/repositorySettings/checkAccess", {"repositoryUri": uri, **extra}, format="json")


@pytest.fixture
def counted():
    """An HTTP server on 127.0.0.1 that counts the requests it gets and answers a git-like error."""
    hits = []

    def app(environ, start_response):
        hits.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "application/x-git-upload-pack-advertisement")])
        return [b"0024ERR secret-metadata-of-the-host\n"]

    server, url = serve(app)
    yield url, hits
    stop(server)


def test_local_paths_file_and_git_uris_are_refused(api, remote, settings, tmp_path):
    settings.VC_ALLOW_LOCAL_REPOSITORIES = False
    cache = Path(settings.VC_REPOSITORIES_DIR) / "other-tenant.git"
    cache.parent.mkdir(parents=True, exist_ok=True)
    Repo.init_bare(str(cache), mkdir=True).close()
    for uri in (remote, str(cache), "/work/main/.git", "relative/repo.git", f"file://{remote}",
                "git://example.com/repo.git", "ftp://example.com/repo.git", "ext::sh -c id"):
        assert SCHEMES in assert_error(save(api, uri), 400)["message"], uri
        assert SCHEMES in assert_error(check(api, uri), 400)["message"], uri
    assert api.get("/api/admin/repositorySettings/exists").json() is False


def test_remote_uri_forms_are_told_apart():
    from transfer.vc import transport

    assert transport.parse("https://github.com/org/repo.git")[:3] == ("http", "github.com", 443)
    assert transport.parse("http://git.example.com:8080/r.git")[:3] == ("http", "git.example.com", 8080)
    assert transport.parse("ssh://git@example.com:2222/org/r.git")[:3] == ("ssh", "example.com", 2222)
    assert transport.parse("git@github.com:org/repo.git")[:3] == ("ssh", "github.com", 22)
    for uri in ("/srv/r.git", "file:///srv/r.git", "git://example.com/r.git", "-oProxyCommand=x:r", "ssh://-o/x",
                "https:///nohost", "C:\\repo"):
        with pytest.raises(transport.RefusedURI):
            transport.parse(uri)


def test_private_addresses_are_refused_before_connecting(api, settings, counted):
    from transfer.vc import transport

    url, hits = counted
    port = url.rsplit(":", 1)[1].strip("/")
    for uri in (url, f"http://localhost:{port}/", f"http://[::1]:{port}/", f"http://[::ffff:127.0.0.1]:{port}/",
                f"http://0.0.0.0:{port}/"):
        assert "not allowed" in assert_error(check(api, uri), 400)["message"], uri
    key = {"authMethod": "PRIVATE_KEY", "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"}
    assert "not allowed" in assert_error(save(api, "ssh://git@127.0.0.1/r.git", **key), 400)["message"]
    assert hits == []
    for address in ("169.254.169.254", "10.1.2.3", "192.168.0.1", "100.64.0.1", "fe80::1", "fc00::1", "224.0.0.1",
                    "240.0.0.1"):
        assert transport.blocked(address), address
    assert not transport.blocked("140.82.121.3") and not transport.blocked("2606:4700::1111")


def test_a_name_that_resolves_privately_when_connecting_is_refused(api, settings, counted, monkeypatch):
    from transfer.vc import transport

    url, hits = counted
    answers = iter([["93.184.216.34"]])
    monkeypatch.setattr(transport, "_resolve", lambda host, port: next(answers, ["127.0.0.1"]))
    port = url.rsplit(":", 1)[1].strip("/")
    message = assert_error(check(api, f"http://git.example.test:{port}/"), 400)["message"]
    assert "not allowed" in message and hits == []


def test_the_remote_text_never_reaches_the_answer(api, settings, counted):
    settings.VC_ALLOW_LOCAL_REPOSITORIES = True
    url, hits = counted
    message = assert_error(check(api, url), 400)["message"]
    assert hits and "secret" not in message and "Unable to access repository" in message


def _finishes(call) -> tuple[bool, object]:
    box = []

    def run():
        try:
            box.append(call())
        except Exception as e:
            box.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    return not thread.is_alive(), (box[0] if box else None)


def test_a_silent_host_times_out(settings, silent_port, tmp_path):
    from rest_framework.exceptions import ValidationError

    from transfer.models import RepositorySettings
    from transfer.vc import repository

    settings.VC_REPOSITORIES_DIR = str(tmp_path / "cache")
    settings.VC_ALLOW_LOCAL_REPOSITORIES = True
    settings.VC_NETWORK_TIMEOUT = 1
    for uri, extra in ((f"http://127.0.0.1:{silent_port}/r.git", {}),
                       (f"ssh://git@127.0.0.1:{silent_port}/r.git", {"auth_method": "PRIVATE_KEY",
                                                                     "private_key": "not a key\n"})):
        row = RepositorySettings(tenant_id=uuid.uuid4(), repository_uri=uri, default_branch="main", **extra)
        done, outcome = _finishes(lambda row=row: repository.check_access(row))
        assert done, uri
        assert isinstance(outcome, ValidationError) and "Unable to access repository" in str(outcome.detail[0])


def test_ssh_settings_that_cannot_work_are_refused(api, settings):
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"
    for uri in ("ssh://git@127.0.0.1/r.git", "git@127.0.0.1:r.git"):
        res = save(api, uri, authMethod="USERNAME_PASSWORD", username="git", password="pw")
        assert "not supported" in assert_error(res, 400)["message"]
        res = save(api, uri, authMethod="PRIVATE_KEY", privateKey=key, privateKeyPassword="phrase")
        assert "not supported" in assert_error(res, 400)["message"]
        assert "PRIVATE_KEY" in assert_error(save(api, uri, authMethod="USERNAME_PASSWORD"), 400)["message"]


def test_ssh_runs_without_prompts_and_with_a_timeout(tmp_path):
    from transfer.vc import transport

    command = transport.ssh_command(tmp_path / "t.known_hosts")
    for option in ("BatchMode=yes", "ConnectTimeout=", "IdentitiesOnly=yes", "IdentityAgent=none"):
        assert option in command


def test_fetching_is_bounded(api, http_remote, settings):
    import shutil

    configure(api, http_remote, username="git", password="right")
    make_entities(api)
    assert commit(api, complex_body())["error"] is None
    shutil.rmtree(settings.VC_REPOSITORIES_DIR)
    settings.VC_MAX_FETCH_BYTES = 200
    result = commit(api, complex_body("again"))
    assert result["done"] is True and "too large" in result["error"]


def test_credentials_in_the_uri_are_never_shown(api, http_remote):
    from transfer.models import RepositorySettings

    with_creds = http_remote.replace("http://", "http://git:right@")
    configure(api, with_creds)
    made = make_entities(api)
    assert commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})["error"] is None
    wrong = http_remote.replace("http://", "http://git:topsecret@")
    RepositorySettings.objects.update(repository_uri=wrong)
    result = commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})
    assert result["error"] and "topsecret" not in result["error"]
    assert "topsecret" not in assert_error(check(api, wrong), 400)["message"]


def test_the_cache_goes_with_the_settings(api, remote, settings, tmp_path):
    configure(api, remote)
    made = make_entities(api)
    first = commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})["version"]["id"]
    caches = list(Path(settings.VC_REPOSITORIES_DIR).glob("*.git"))
    assert len(caches) == 1
    other = tmp_path / "other.git"
    Repo.init_bare(str(other), mkdir=True).close()
    configure(api, str(other))
    assert_error(api.get(f"/api/entities/vc/entity/{first}"), 404)  # the old repository's commit is gone
    api.get("/api/entities/vc/branches")
    assert api.delete("/api/admin/repositorySettings").status_code == 200
    assert not caches[0].exists()


def test_two_processes_making_the_cache_at_once(remote, monkeypatch, tenant):
    from transfer.vc import git

    made = []
    real = git.Repo.init_bare

    def racing(path, *args, **kwargs):
        if not made:  # another process makes the tenant's cache first
            made.append(real(str(git._cache_path(tenant.pk)), mkdir=True))
            made[0].close()
        return real(path, *args, **kwargs)

    monkeypatch.setattr(git.Repo, "init_bare", racing)
    creds = git.Credentials()
    with git.Remote(tenant.pk, remote, creds) as cache_user:
        assert cache_user.fetch() == {}
