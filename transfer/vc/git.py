"""A tenant's repository through dulwich (pure Python, no git binary needed).

Each tenant keeps a bare cache of its remote under ``VC_REPOSITORIES_DIR/<tenant id>.git``: every
operation fetches the remote's branches into it first, reads objects from it, and pushes new
commits from it. Nothing is checked out; commits are built from trees in the object store.
What is reached and how (URI forms, addresses, timeouts, SSH options): transport.py. Errors are one
fixed message per kind: never the remote's text, an exception's text or the URI's password.
"""

import logging
import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from dulwich.client import HTTPProxyUnauthorized, HTTPUnauthorized, get_transport_and_path
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.object_store import commit_tree_changes, iter_tree_contents, tree_lookup_path
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo
from urllib3.exceptions import HTTPError

from transfer.vc import transport

__all__ = ["GitError", "Remote", "HEADS", "validate", "remove_cache"]

log = logging.getLogger(__name__)
HEADS = b"refs/heads/"
FILE_MODE = 0o100644


class GitError(Exception):
    """The repository cannot be reached or refused the operation; the message is for the user."""


class TooLarge(Exception):
    """The fetch went over VC_MAX_FETCH_BYTES."""


@dataclass(frozen=True)
class Credentials:
    auth_method: str = "USERNAME_PASSWORD"
    username: str = ""
    password: str = ""
    private_key: str = ""
    private_key_password: str = ""


def _cache_root() -> Path:
    root = Path(getattr(settings, "VC_REPOSITORIES_DIR", "") or Path(settings.BASE_DIR) / "var" / "vc-repositories")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _cache_path(tenant_id) -> Path:
    return _cache_root() / f"{tenant_id}.git"


def _open_cache(path: Path) -> Repo:
    """The tenant's cache, made when missing: built aside and renamed into place, so that two processes
    making it at once both end up with the one that won."""
    try:
        return Repo(str(path))
    except NotGitRepository:
        pass
    aside = tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-")
    Repo.init_bare(aside).close()
    try:
        os.rename(aside, path)
    except OSError:  # made meanwhile by another process
        shutil.rmtree(aside, ignore_errors=True)
    return Repo(str(path))


def remove_cache(tenant_id) -> None:
    """Forget the tenant's cache (its settings were deleted or point elsewhere now)."""
    path = _cache_path(tenant_id)
    shutil.rmtree(path, ignore_errors=True)
    path.with_suffix(".known_hosts").unlink(missing_ok=True)


def validate(uri: str, creds: Credentials) -> str:
    """The kind of ``uri`` (transport.parse) once it and the credentials can work; GitError otherwise."""
    try:
        kind, _host, _port = transport.parse(uri)
    except transport.RefusedURI as e:
        raise GitError(str(e)) from None
    if kind == "ssh":
        if creds.auth_method != "PRIVATE_KEY":
            raise GitError("An SSH repository needs authMethod PRIVATE_KEY (password authentication over SSH "
                           "is not supported)")
        if creds.private_key_password:
            raise GitError("A private key with a passphrase is not supported: use a key without one")
    return kind


@contextmanager
def _client(uri: str, creds: Credentials, known_hosts: Path):
    key_file = None
    kind = validate(uri, creds)
    try:
        kwargs = {}
        if kind == "ssh":
            fd, key_file = tempfile.mkstemp(prefix="vc-key-")
            with os.fdopen(fd, "w") as f:
                f.write(creds.private_key if creds.private_key.endswith("\n") else creds.private_key + "\n")
            kwargs.update(key_filename=key_file, ssh_command=transport.ssh_command(known_hosts))
        elif creds.username or creds.password:
            kwargs.update(username=creds.username or None, password=creds.password or None)
        if kind == "http":
            kwargs["pool_manager"] = transport.pool_manager(uri)
        if kind != "local":
            transport.check_host(*transport.parse(uri)[1:])
        try:
            client, path = get_transport_and_path(uri, **kwargs)
        except (ValueError, TypeError):
            raise GitError("Invalid repository URI") from None
        yield client, path
    finally:
        if key_file:
            os.unlink(key_file)


def _causes(error: BaseException):
    """``error`` and what it wraps (causes, contexts, urllib3's reasons), a few levels deep."""
    seen, todo = [], [error]
    while todo and len(seen) < 12:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
    return seen


def _explain(error: Exception) -> str:
    """One fixed message per kind of failure: never the remote's or the exception's text."""
    causes = _causes(error)
    if any(isinstance(c, transport.BlockedAddress) for c in causes):
        return "The repository host is not allowed (a private, loopback or reserved address)"
    if any(isinstance(c, TooLarge) for c in causes):
        return f"The repository is too large to fetch (over {transport.max_fetch_bytes()} bytes)"
    if any(isinstance(c, HTTPUnauthorized | HTTPProxyUnauthorized) for c in causes):
        return "Authentication failed: wrong username or password (or no access)"
    if any(isinstance(c, NotGitRepository) for c in causes):
        return "Not a git repository"
    if any(isinstance(c, HangupException) for c in causes):
        return "The remote end hung up (wrong credentials, unknown host key or no access?)"
    if any(isinstance(c, HTTPError | socket.timeout | TimeoutError | ConnectionError | OSError) for c in causes):
        return "Unable to connect to the repository host (unreachable or timed out)"
    if isinstance(error, GitProtocolError) and "unexpected http resp 403" in str(error):
        return "Authentication failed: wrong username or password (or no access)"
    return "The repository answered something this server does not understand"


def _bounded(client):
    """``client`` whose fetches stop past VC_MAX_FETCH_BYTES of pack data."""
    limit, fetch_pack, received = transport.max_fetch_bytes(), client.fetch_pack, [0]

    def bounded_fetch_pack(path, determine_wants, graph_walker, pack_data, *args, **kwargs):
        def counted(data):
            received[0] += len(data)
            if received[0] > limit:
                raise TooLarge()
            pack_data(data)

        return fetch_pack(path, determine_wants, graph_walker, counted, *args, **kwargs)

    client.fetch_pack = bounded_fetch_pack
    return client


class Remote:
    """One tenant's repository: ``fetch()`` first, then read, then ``commit()``."""

    def __init__(self, tenant_id, uri: str, creds: Credentials, default_branch: str = "main"):
        self.uri, self.creds, self.default_branch = uri, creds, default_branch or "main"
        path = _cache_path(tenant_id)
        self.known_hosts = path.with_suffix(".known_hosts")
        self.cache = _open_cache(path)
        self.heads: dict[str, bytes] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cache.close()

    def _run(self, call):
        shown = transport.redact(self.uri)
        try:
            with _client(self.uri, self.creds, self.known_hosts) as (client, path):
                return call(client, path)
        except GitError:
            raise
        except Exception as e:  # an outside system: any failure of it is the request's error
            log.info("git %s failed: %s", shown, type(e).__name__)
            raise GitError(f"Repository {shown:.200}: {_explain(e)}") from None

    def check_access(self) -> None:
        self._run(lambda client, path: client.get_refs(path))

    def fetch(self) -> dict[str, bytes]:
        """The remote's branches (name -> commit id); their objects are in the cache afterwards."""
        result = self._run(lambda client, path: _bounded(client).fetch(path, self.cache))
        self.heads = {ref[len(HEADS):].decode(): sha for ref, sha in result.refs.items()
                      if ref.startswith(HEADS) and sha}
        return self.heads

    def head(self, branch: str) -> bytes | None:
        return self.heads.get(branch)

    def commit(self, branch: str, changes: dict[str, bytes | None], message: str, author: str) -> bytes:
        """Commit ``changes`` (path -> content, None deletes) on top of ``branch`` and push it."""
        parent = self.head(branch)
        store = self.cache.object_store
        tree = store[store[parent].tree] if parent else Tree()
        if not parent:
            store.add_object(tree)
        entries = []
        for path, content in sorted(changes.items()):
            if content is None:
                entries.append((path.encode(), None, None))
            else:
                blob = Blob.from_string(content)
                store.add_object(blob)
                entries.append((path.encode(), FILE_MODE, blob.id))
        commit = Commit()
        commit.tree = commit_tree_changes(store, tree.id, entries)
        commit.parents = [parent] if parent else []
        commit.author = commit.committer = author.encode()
        commit.author_time = commit.commit_time = int(time.time())
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode()
        store.add_object(commit)
        ref = HEADS + branch.encode()

        def update_refs(refs):
            if refs.get(ref) != parent and not (parent is None and ref not in refs):
                raise GitError(f"Branch {branch} moved while committing; try again")
            return {ref: commit.id}

        result = self._run(lambda client, path: client.send_pack(path, update_refs, self.cache.generate_pack_data))
        refused = (getattr(result, "ref_status", None) or {}).get(ref)
        if refused:
            log.info("push to %s refused", transport.redact(self.uri))
            raise GitError("The repository refused the push (protected branch or no write access?)")
        self.heads[branch] = commit.id
        return commit.id

    # reading (after fetch) ---------------------------------------------------------------------

    def commit_of(self, version_id: str) -> Commit | None:
        try:
            obj = self.cache.object_store[version_id.encode()]
        except (KeyError, ValueError, AssertionError):
            return None
        return obj if isinstance(obj, Commit) else None

    def files(self, commit: Commit, prefix: str = "") -> list[str]:
        store = self.cache.object_store
        return sorted(e.path.decode() for e in iter_tree_contents(store, commit.tree)
                      if e.path.decode().startswith(prefix))

    def read(self, commit: Commit, path: str) -> bytes | None:
        store = self.cache.object_store
        try:
            _mode, sha = tree_lookup_path(store.__getitem__, commit.tree, path.encode())
        except KeyError:
            return None
        obj = store[sha]
        return obj.data if isinstance(obj, Blob) else None

    def log(self, branch: str, paths: list[str] | None = None) -> list[Commit]:
        head = self.head(branch)
        if head is None:
            return []
        walker = self.cache.get_walker(include=[head], paths=[p.encode() for p in paths] if paths else None)
        return [entry.commit for entry in walker]
