"""Websocket URL patterns of the integration center: live debug events of an integration or
converter, and the connection of remote integration runners."""

from django.urls import re_path

from integrations.consumers import DebugEventsConsumer
from integrations.remote.consumer import RemoteIntegrationConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    re_path(r"^ws/events/(?P<entity_type>[A-Za-z_]+)/(?P<entity_id>[^/]+)/?$", DebugEventsConsumer.as_asgi()),
    re_path(r"^ws/integrations/remote/?$", RemoteIntegrationConsumer.as_asgi()),
]
