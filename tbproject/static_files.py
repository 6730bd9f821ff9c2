"""WhiteNoise with the static files of the apps found once per process.

With ``WHITENOISE_USE_FINDERS`` (embedded mode serves app static files without collectstatic) and
without autorefresh, WhiteNoise lists every finder's files and stats each of them whenever the
middleware is built. A server builds it once, but Django's test client builds the whole middleware
chain for every client: that listing was about 30 ms of each test that made a request. The files do
not change while a process runs (autorefresh, in DEBUG, still looks each one up per request), so
the listing is made once per process and static prefix and reused by every later instance.
"""

from whitenoise.middleware import WhiteNoiseMiddleware

__all__ = ["StaticFilesMiddleware"]

_FOUND: dict[str, dict] = {}  # static prefix -> {url: StaticFile} from the finders


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def add_files_from_finders(self):
        found = _FOUND.get(self.static_prefix)
        if found is None:
            kept, self.files = self.files, {}
            try:
                super().add_files_from_finders()
                found = _FOUND[self.static_prefix] = self.files
            finally:
                self.files = kept
        self.files.update(found)  # as WhiteNoise does: the finders' files win over STATIC_ROOT's
