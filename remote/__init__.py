"""The remote integration runner: hosts one integration next to the devices, buffers on disk
while the server is away, and streams to the server over a websocket.

    iot-remote --server https://iot.example.com --routing-key KEY --secret SECRET
    python -m remote ...                      # the same
    python manage.py runremote ...            # the same, from a checkout with settings

It needs neither a database nor Celery: it imports the listener types (integrations/types,
integrations/listeners), the wire protocol (integrations/remote/protocol.py) and the converter
engine, never a model, and no Django at all: packaging/remote builds it as a wheel of its own
(``iot-integration-remote``) from these modules, which read their settings through tbproject/conf.py.

- ``outbox.py``: SQLite outbox of numbered batches, deleted once the server acknowledged them.
- ``host.py``: runs the integration the server configured, with the listener classes of
  runintegrations; ``sink.py`` is the seam: uplinks go to the outbox instead of the queue.
  ``http.py`` serves HTTP-family integrations on the runner's own port.
- ``convert.py``: the uplink converter run here when the integration has ``convertRemotely``.
- ``replies.py``: downlinks the server offers, answered on a device's next request (HTTP, CoAP).
- ``client.py``: the connection: hello, configuration, batches and acks, status, downlinks.
- ``__main__.py``: the command line.
"""

__version__ = "0.1.0"
