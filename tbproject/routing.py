"""Websocket URL patterns, gathered from the apps that publish live events."""

websocket_urlpatterns: list = []
