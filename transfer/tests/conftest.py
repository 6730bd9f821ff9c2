"""Repositories for the version control tests: bare repositories on disk, one served over smart HTTP,
and a TCP server that accepts and never answers. Local paths and loopback addresses are refused
outside tests; ``remote`` turns on VC_ALLOW_LOCAL_REPOSITORIES, which allows both."""

import socket
import threading

import pytest
from dulwich.repo import Repo


@pytest.fixture
def remote(tmp_path, settings):
    settings.VC_REPOSITORIES_DIR = str(tmp_path / "cache")
    settings.VC_ALLOW_LOCAL_REPOSITORIES = True
    path = tmp_path / "remote.git"
    Repo.init_bare(str(path), mkdir=True).close()
    return str(path)


def serve(app):
    """``app`` (WSGI) on 127.0.0.1: (server, base URL); shut it down with stop(server)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def stop(server):
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_remote(remote):
    """The bare repository served over smart HTTP by dulwich's WSGI server, behind basic auth git:right."""
    import base64

    from dulwich.server import DictBackend
    from dulwich.web import make_wsgi_chain

    repo = Repo(remote)
    app = make_wsgi_chain(DictBackend({"/": repo}))
    expected = "Basic " + base64.b64encode(b"git:right").decode()

    def guarded(environ, start_response):
        if environ.get("HTTP_AUTHORIZATION") != expected:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b""]
        return app(environ, start_response)

    server, url = serve(guarded)
    yield url
    stop(server)
    repo.close()


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts connections and never answers (closed at the end)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted, done = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    done.set()
    for conn in accepted:
        conn.close()
    listener.close()
