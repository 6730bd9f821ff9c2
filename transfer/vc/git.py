"""A tenant's repository through dulwich (pure Python, no git binary needed).

Each tenant keeps a bare cache of its remote under ``VC_REPOSITORIES_DIR/<tenant id>.git``: every
operation fetches the remote's branches into it first, reads objects from it, and pushes new
commits from it. Nothing is checked out; commits are built from trees in the object store.
"""

import logging
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from dulwich.client import HTTPProxyUnauthorized, HTTPUnauthorized, get_transport_and_path
from dulwich.errors import HangupException, NotGitRepository
from dulwich.object_store import commit_tree_changes, iter_tree_contents, tree_lookup_path
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

__all__ = ["GitError", "Remote", "HEADS"]

log = logging.getLogger(__name__)
HEADS = b"refs/heads/"
FILE_MODE = 0o100644


class GitError(Exception):
    """The repository cannot be reached or refused the operation; the message is for the user."""


@dataclass(frozen=True)
class Credentials:
    auth_method: str = "USERNAME_PASSWORD"
    username: str = ""
    password: str = ""
    private_key: str = ""
    private_key_password: str = ""


def _cache_path(tenant_id) -> Path:
    root = Path(getattr(settings, "VC_REPOSITORIES_DIR", "") or Path(settings.BASE_DIR) / "var" / "vc-repositories")
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{tenant_id}.git"


@contextmanager
def _client(uri: str, creds: Credentials):
    key_file = None
    try:
        kwargs = {}
        if creds.auth_method == "PRIVATE_KEY" and creds.private_key:
            fd, key_file = tempfile.mkstemp(prefix="vc-key-")
            with os.fdopen(fd, "w") as f:
                f.write(creds.private_key if creds.private_key.endswith("\n") else creds.private_key + "\n")
            kwargs["key_filename"] = key_file
            if creds.private_key_password:
                kwargs["password"] = creds.private_key_password
        elif creds.username or creds.password:
            kwargs.update(username=creds.username or None, password=creds.password or None)
        try:
            client, path = get_transport_and_path(uri, **kwargs)
        except (ValueError, TypeError) as e:
            raise GitError(f"Invalid repository URI: {e}") from None
        yield client, path
    finally:
        if key_file:
            os.unlink(key_file)


def _explain(error: Exception) -> str:
    if isinstance(error, HTTPUnauthorized | HTTPProxyUnauthorized):
        return "Authentication failed: wrong username or password (or no access)"
    if isinstance(error, NotGitRepository):
        return "Not a git repository"
    if isinstance(error, HangupException):
        return "The remote end hung up (wrong credentials or no access?)"
    text = str(error) or type(error).__name__
    if "401" in text or "403" in text or "uthentication" in text or "not authorized" in text.lower():
        return f"Authentication failed: {text[:300]}"
    return text[:500]


class Remote:
    """One tenant's repository: ``fetch()`` first, then read, then ``commit()``."""

    def __init__(self, tenant_id, uri: str, creds: Credentials, default_branch: str = "main"):
        self.uri, self.creds, self.default_branch = uri, creds, default_branch or "main"
        path = _cache_path(tenant_id)
        self.cache = Repo(str(path)) if path.exists() else Repo.init_bare(str(path), mkdir=True)
        self.heads: dict[str, bytes] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cache.close()

    def _run(self, call):
        with _client(self.uri, self.creds) as (client, path):
            try:
                return call(client, path)
            except GitError:
                raise
            except Exception as e:  # an outside system: any failure of it is the request's error
                log.info("git %s failed: %r", self.uri, e)
                raise GitError(f"Repository {self.uri!s:.200}: {_explain(e)}") from None

    def check_access(self) -> None:
        self._run(lambda client, path: client.get_refs(path))

    def fetch(self) -> dict[str, bytes]:
        """The remote's branches (name -> commit id); their objects are in the cache afterwards."""
        result = self._run(lambda client, path: client.fetch(path, self.cache))
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
            raise GitError(f"The repository refused the push: {refused}")
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
