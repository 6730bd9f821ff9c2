"""The local checkout of the converters library's git repository, refreshed by a periodic job.

ThingsBoard keeps its library in git (``thingsboard/data-converters``, settings
``TB_INTEGRATIONS_CONVERTERS_LIBRARY_REPO_URL`` / ``..._BRANCH``); here the same repository or any
other in its layout is cloned (shallow, one branch) under ``CONVERTERS_LIBRARY_DIR``:

    <dir>/<timestamp>-<commit>/   one checkout per refresh
    <dir>/current -> ...          symlink switched atomically to the newest good checkout

so that readers never see a half-written tree. A refresh first asks the remote for the
branch's commit (``git ls-remote``) and clones only when it changed; older checkouts are removed.
"""

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from django.conf import settings

__all__ = ["LibraryError", "current_path", "refresh", "refresh_if_stale", "status"]

log = logging.getLogger(__name__)
GIT_TIMEOUT_S = 300
LS_REMOTE_TIMEOUT_S = 30
CURRENT = "current"
_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}


class LibraryError(RuntimeError):
    """The repository could not be reached or cloned; the previous checkout stays in use."""


def _root() -> Path:
    return Path(settings.CONVERTERS_LIBRARY_DIR)


def current_path() -> Path | None:
    """The checkout in use, or None when the library was never loaded."""
    link = _root() / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def _git(*args, cwd=None, timeout: float = GIT_TIMEOUT_S) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=_ENV, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise LibraryError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise LibraryError(f"git {args[0]} took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise LibraryError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()[:500]}")
    return done.stdout


def _remote_commit(url: str, branch: str) -> str:
    # Short: the periodic runner's other jobs wait behind this when the network is down.
    out = _git("ls-remote", "--heads", url, branch, timeout=LS_REMOTE_TIMEOUT_S)
    for line in out.splitlines():
        commit, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return commit
    raise LibraryError(f"branch {branch!r} not found in {url}")


def refresh(*, force: bool = False) -> dict:
    """Clone the configured branch if its commit changed (or ``force``); returns the status.

    Raises LibraryError when the library is disabled (empty URL) or git fails."""
    url, branch = settings.CONVERTERS_LIBRARY_REPO_URL, settings.CONVERTERS_LIBRARY_REPO_BRANCH
    if not url:
        raise LibraryError("the converters library is disabled (CONVERTERS_LIBRARY_REPO_URL is empty)")
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    commit = _remote_commit(url, branch)
    current = current_path()
    if current is not None and current.name.endswith(commit[:12]) and not force:
        (root / ".checked").touch()
        return status()
    target = root / f"{int(time.time() * 1000)}-{commit[:12]}"
    try:
        _git("clone", "--quiet", "--depth", "1", "--single-branch", "--branch", branch, url, str(target))
    except LibraryError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    link = root / f".{CURRENT}.tmp"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target.name)
    os.replace(link, root / CURRENT)
    (root / ".checked").touch()
    for old in root.iterdir():
        if old.is_dir() and not old.is_symlink() and old != target and old.name[:1].isdigit():
            shutil.rmtree(old, ignore_errors=True)
    log.info("converters library updated to %s@%s (%s)", url, branch, commit[:12])
    return status()


def refresh_if_stale() -> dict | None:
    """Refresh when the last check is older than CONVERTERS_LIBRARY_REFRESH_HOURS (or never
    happened); None when it is fresh or the library is disabled."""
    if not settings.CONVERTERS_LIBRARY_REPO_URL:
        return None
    hours = settings.CONVERTERS_LIBRARY_REFRESH_HOURS
    checked = _root() / ".checked"
    if current_path() is not None and checked.exists() and (hours <= 0 or time.time() - checked.stat().st_mtime <
                                                            hours * 3600):
        return None
    return refresh()


def status() -> dict:
    current = current_path()
    checked = _root() / ".checked"
    return {"url": settings.CONVERTERS_LIBRARY_REPO_URL, "branch": settings.CONVERTERS_LIBRARY_REPO_BRANCH,
            "commit": current.name.partition("-")[2] if current else None,
            "checkedTs": int(checked.stat().st_mtime * 1000) if checked.exists() else None}
