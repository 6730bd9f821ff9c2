"""Every test here is bounded: a broken watchdog must fail the suite, never hang it."""

import faulthandler
import signal
import sys
import threading

import pytest

TEST_TIME_LIMIT_S = 30


class TestTimeLimitExceeded(Exception):
    __test__ = False


@pytest.fixture(autouse=True)
def _time_guard():
    """SIGALRM fails a test that runs past TEST_TIME_LIMIT_S; faulthandler ends the whole run
    (with every thread's traceback) if even that cannot get through."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise TestTimeLimitExceeded(f"test ran past {TEST_TIME_LIMIT_S} s: is the converter watchdog broken?")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIME_LIMIT_S)
    faulthandler.dump_traceback_later(TEST_TIME_LIMIT_S + 30, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session", autouse=True)
def _stop_engine():
    yield
    from converters import engine

    engine.shutdown()


@pytest.fixture
def library(tmp_path, settings):
    """A converters library repository built on disk, configured by file:// URL and loaded."""
    from converters.library import repo
    from converters.tests.library_repo import build

    source = build(tmp_path / "data-converters")
    settings.CONVERTERS_LIBRARY_REPO_URL = f"file://{source}"
    settings.CONVERTERS_LIBRARY_REPO_BRANCH = "main"
    settings.CONVERTERS_LIBRARY_DIR = str(tmp_path / "library")
    settings.CONVERTERS_LIBRARY_REFRESH_HOURS = 24
    repo.refresh()
    return source
