"""ThingsBoard PE's Edge management REST API: edges, what is assigned to them, their event queue.

A tenant keeps its edges here (name, type, routing key and secret, root rule chain, customer), assigns
rule chains of type EDGE, entity groups, edge-template integrations and scheduler events to them, and
reads each edge's queue of edge events (ASSIGNED_TO_EDGE, UPDATED, DELETED... recorded when something is
assigned, unassigned or changed, and ADDED for everything on ``POST /api/edge/sync/{edgeId}``).

Not in scope: the edge gRPC protocol. A real ThingsBoard Edge cannot connect to this server yet: nothing
listens for it, so its events are queued and never delivered; the REST management works.

The top layer: it imports tenants/, devices/, rulechains/, integrations/, scheduler/, roles/ and tbproject/;
nothing imports it (it subscribes to their signals, edges/receivers.py).
"""
