"""Remote integrations, server side: the websocket a remote runner (the top-level ``remote``
package) connects to, and the wire protocol both sides speak (``protocol.py``, importable without
Django settings).

- ``protocol.py``: the frames, their JSON shapes and the uplink encoding.
- ``service.py``: what the server does with them (authenticate, queue a batch once, status, downlinks).
- ``consumer.py``: the Channels consumer at ``/ws/integrations/remote`` that only adapts frames.
"""
