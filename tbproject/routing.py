"""Websocket URL patterns, gathered from the apps that publish live events."""

from integrations.routing import websocket_urlpatterns as integration_patterns

websocket_urlpatterns: list = [*integration_patterns]
