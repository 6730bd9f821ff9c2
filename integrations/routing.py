"""Websocket URL patterns of the integration center: live debug events of an integration or converter."""

from django.urls import re_path

from integrations.consumers import DebugEventsConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    re_path(r"^ws/events/(?P<entity_type>[A-Za-z_]+)/(?P<entity_id>[^/]+)/?$", DebugEventsConsumer.as_asgi()),
]
