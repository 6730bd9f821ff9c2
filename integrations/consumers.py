"""Live debug events over a websocket: ``/ws/events/{INTEGRATION|CONVERTER|RULE_NODE}/{id}``.

The consumer only authorises and forwards (STYLE.md rule 12). Authentication is the session
(admin pages) or, as ThingsBoard's websocket does, the JWT access token in ``?token=``. The user
must be a tenant administrator (else close code 4403) and the entity must be one of the user's
tenant (else 4404, as the REST API answers 404); without a valid login the code is 4401. The
connection is accepted before it is closed so that browsers see the code. Each frame is one
event, in the JSON shape ``GET /api/events/...`` lists it.
"""

import asyncio
from urllib.parse import parse_qs
from uuid import UUID

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.apps import apps
from django.contrib.auth import get_user_model

from integrations.broadcasts import group_name, register_consumer_loop
from tbproject.api import role_hook
from tbproject.api.tokens import TokenInvalid, decode_access, outdated
from tenants.choices import Authority

__all__ = ["DebugEventsConsumer", "ENTITY_MODELS"]

ENTITY_MODELS = {"INTEGRATION": "integrations.Integration", "CONVERTER": "converters.Converter",
                 "RULE_NODE": "rulechains.RuleNode"}
UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 4401, 4403, 4404
#: the role resource watching an entity's debug events needs (READ): a rule node's is its rule chain's
_RESOURCES = {"INTEGRATION": "INTEGRATION", "CONVERTER": "CONVERTER", "RULE_NODE": "RULE_CHAIN"}


@database_sync_to_async
def _authorise(scope, entity_type: str, entity_id: str) -> int | None:
    """None when the user may watch the entity, else the close code."""
    user = scope.get("user")
    token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
    if token:
        try:
            claims = decode_access(token)
        except TokenInvalid:
            return UNAUTHENTICATED
        user = get_user_model().objects.filter(id=claims["userId"], is_active=True).first()
        if user is not None and outdated(user, claims.get("cc")):
            return UNAUTHENTICATED
    if user is None or not user.is_authenticated:
        return UNAUTHENTICATED
    if user.authority != Authority.TENANT_ADMIN:
        return FORBIDDEN
    label = ENTITY_MODELS.get(entity_type)
    try:
        pk = UUID(entity_id)
    except ValueError:
        return NOT_FOUND
    if label is None or not apps.get_model(label).objects.for_user(user).filter(pk=pk).exists():
        return NOT_FOUND
    if not role_hook.permits(user, _RESOURCES[entity_type], "READ"):
        return FORBIDDEN  # the tenant administrator's roles (tbproject/api/role_hook.py)
    return None


class DebugEventsConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        refused = await _authorise(self.scope, kwargs["entity_type"], kwargs["entity_id"])
        if refused is None:
            # Joined before the accept: a client that saw the socket open gets every event written
            # after that (joining after it, an event written at once could miss the group: a
            # Redis round trip late, under load).
            register_consumer_loop(asyncio.get_running_loop())
            self.group = group_name(kwargs["entity_type"], kwargs["entity_id"])
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if refused is not None:
            await self.close(code=refused)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # nothing to ask: the subscription is the URL

    async def debug_events(self, message):
        for event in message["events"]:
            await self.send_json(event)
