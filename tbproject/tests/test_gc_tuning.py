import gc

from tbproject.gc_tuning import tune


def test_tune_raises_the_first_threshold_and_freezes_what_exists(settings):
    before = gc.get_threshold()
    try:
        settings.GC_GEN0_THRESHOLD = 12_345
        tune()
        assert gc.get_threshold() == (12_345, before[1], before[2])
        assert gc.get_freeze_count() > 0
        settings.GC_GEN0_THRESHOLD = 0
        gc.set_threshold(*before)
        tune()
        assert gc.get_threshold() == before  # 0: Python's defaults stay
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_the_web_process_tunes_at_server_startup_not_at_import(monkeypatch):
    """On ASGI lifespan startup (uvicorn), else before the first connection (daphne has no lifespan)."""
    from asgiref.sync import async_to_sync

    from tbproject import asgi

    tuned, served = [], []
    monkeypatch.setattr(asgi, "tune", lambda: tuned.append(1))

    async def app(scope, receive, send):
        served.append(scope["type"])

    async def lifespan():
        inbox, outbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}], []

        async def receive():
            return inbox.pop(0)

        async def send(message):
            outbox.append(message["type"])

        startup = asgi.ServerStartup(app)
        assert tuned == []
        await startup({"type": "lifespan"}, receive, send)
        await startup({"type": "http"}, receive, send)
        return outbox

    assert async_to_sync(lifespan)() == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert tuned == [1] and served == ["http"]
    daphne = asgi.ServerStartup(app)
    async_to_sync(daphne)({"type": "http"}, None, None)
    assert tuned == [1, 1] and served == ["http", "http"]
