"""The remote integration runner: hosts one integration next to the devices, buffers on disk
while the server is away, and streams to the server over a websocket.

    python -m remote --server https://iot.example.com --routing-key KEY --secret SECRET
    python manage.py runremote ...            # the same, from a checkout with settings

It needs neither a database nor Celery: it imports the listener types (integrations/types,
integrations/listeners) and the wire protocol (integrations/remote/protocol.py), never a model.

- ``outbox.py``: SQLite outbox of numbered batches, deleted once the server acknowledged them.
- ``host.py``: runs the integration the server configured, with the listener classes of
  runintegrations; ``sink.py`` is the seam: uplinks go to the outbox instead of the queue.
  ``http.py`` serves HTTP-family integrations on the runner's own port.
- ``convert.py``: the uplink converter run here when the integration has ``convertRemotely``.
- ``client.py``: the connection: hello, configuration, batches and acks, status, downlinks.
- ``__main__.py``: the command line.
"""

__version__ = "0.1.0"
