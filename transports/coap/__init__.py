"""ThingsBoard's device CoAP API (thingsboard.io/docs/reference/coap-api/) on aiocoap: server.py hosts it,
site.py reads the paths, device_api.py does the database work, observe.py keeps Observe subscriptions."""
