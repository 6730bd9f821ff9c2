"""The paths of ThingsBoard's device CoAP API (thingsboard.io/docs/reference/coap-api/), the access token in
the URI as ThingsBoard's CoapTransportResource reads it:

    POST coap://host/api/v1/$TOKEN/telemetry      {"k": v} | {"ts", "values"} | a list of either    -> 2.01
    POST .../attributes                           {"k": v}, CLIENT_SCOPE                             -> 2.01
    GET  .../attributes?clientKeys=a,b&sharedKeys=c                                                  -> 2.05 JSON
    GET  .../attributes  Observe: 0               shared-attribute updates (observe.py)
    GET  .../rpc         Observe: 0               server-side RPC calls (observe.py)
    POST .../rpc/{id}                             the device's reply to call ``id``                 -> 2.01
    POST .../rpc                                  {"method", "params"}: a client-side call          -> 2.05 the answer
    POST .../claim                                {"secretKey"?, "durationMs"?}                      -> 2.01
    POST coap://host/api/v1/provision             ThingsBoard's provision request                    -> 2.01 / 4.00 JSON
    GET  .../firmware?title=&version=[&size=&chunk=]  (and .../software) the package or a chunk of it -> 2.05

As ThingsBoard, the feature is the path's fourth segment and further segments are ignored (GET+Observe
.../attributes/updates, POST .../telemetry/x), except after rpc, where the fifth is a call's id (a POST with
more is 4.00). Errors as ThingsBoard's transport: 4.00 for a path without a known feature (telemetry,
attributes, rpc, claim, firmware, software), a GET of telemetry, or a payload the API refuses (with the reason
as diagnostic payload); 4.01 for a token that is no device's access token; 4.04 for an attribute read that
finds nothing, a package the device does not have and outside /api/v1; 4.05 for a method other than GET and
POST. Beyond ThingsBoard, which has no such answers: 4.13 past DEVICE_COAP_MAX_PAYLOAD_BYTES (block-wise
transfers too), 4.29 with Max-Age (seconds to wait) over the tenant profile's transport rate limits (or the
provisioning limits), 5.03 with Max-Age when the sender has too much in flight (server.py) or too many
block-wise uploads at once (blocks.py), 5.04 for a client-side call the rule engine did not answer in
CLIENT_RPC_TIMEOUT_S.

Every check of the path, the method and the token is answered before any block of an upload is kept; the
blocks are assembled here (blocks.Uploads, bounded), and an answer over one block is sent block-wise
(blocks.Downloads keeps it for the follow-up requests; a whole package is read block by block instead).
"""

import itertools
import json
import logging
import uuid

import aiocoap
from aiocoap import interfaces
from aiocoap.numbers.codes import GET, POST

from devices.choices import OtaPackageType
from rulechains import outbox
from tbproject import waits
from transports.coap import blocks, device_api
from transports.mqtt import device_api as mqtt_api

__all__ = ["DeviceApiSite", "FEATURES", "CLIENT_RPC_TIMEOUT_S", "MAX_CLIENT_CALLS"]

log = logging.getLogger(__name__)

FEATURES = ("telemetry", "attributes", "rpc", "claim", "firmware", "software")
_PACKAGES = {"firmware": OtaPackageType.FIRMWARE, "software": OtaPackageType.SOFTWARE}
CLIENT_RPC_TIMEOUT_S = 60.0  # ThingsBoard's transport.client_side_rpc.timeout
MAX_CLIENT_CALLS = 100  # client-side calls of one device waiting for their answers at once in this process
_request_ids = itertools.count(1)


def _message(code, payload: bytes = b"", content_format=None) -> aiocoap.Message:
    return aiocoap.Message(code=code, payload=payload, content_format=content_format)


def _json(value, code=aiocoap.CONTENT) -> aiocoap.Message:
    return _message(code, json.dumps(value, separators=(",", ":")).encode(), 50)


def _query(request) -> dict:
    query = {}
    for item in request.opt.uri_query:
        name, _, value = item.partition("=")
        query.setdefault(name, value)
    return query


def _with_device(token: str, fn, *args):
    return fn(device_api.device(token), *args)


def _sender(request) -> str:
    sockaddr = getattr(request.remote, "sockaddr", None) or ("",)
    return device_api.sender(str(sockaddr[0]))


def _call_id(rest: list) -> int | None:
    """The call id of POST .../rpc/{id}; None when ``rest`` is no one id."""
    if len(rest) != 1 or not rest[0].isascii() or not rest[0].isdigit() or len(rest[0]) > 10:
        return None
    return int(rest[0])


class DeviceApiSite(interfaces.Resource):
    """The server's one resource: every path is read here (``server``: server.DeviceCoapServer)."""

    def __init__(self, server):
        super().__init__()
        self.server = server
        self.client_calls: dict[object, int] = {}

    async def needs_blockwise_assembly(self, request) -> bool:
        return False  # done here, bounded (render_to_pipe)

    async def render(self, request) -> aiocoap.Message:  # the interface's; render_to_pipe serves everything
        return _message(aiocoap.INTERNAL_SERVER_ERROR)

    async def render_to_pipe(self, pipe) -> None:
        request = pipe.request
        sender = _sender(request)
        try:
            with self.server.admitted(sender):
                answer = await self._answer(request, sender)
        except blocks.Full:
            pipe.add_response(self.server.busy(), is_last=True)
            return
        if isinstance(answer, tuple):  # an Observe registration, admitted: it runs until it ends
            await self.server.observations.run(pipe, *answer)
            return
        pipe.add_response(answer, is_last=True)

    def _too_large(self) -> aiocoap.Message:
        return blocks.too_large(self.server.max_bytes)

    async def _answer(self, request, sender: str):
        """The answer to ``request``, or ``(token, feature, device)`` for an Observe registration."""
        path = list(request.opt.uri_path)
        block1 = request.opt.block1
        if len(request.payload) > self.server.max_bytes or (
                block1 is not None and block1.start + block1.size > self.server.max_bytes):
            return self._too_large()  # refused before it is assembled
        refused = self._refusal(request, path)
        if refused is not None:
            return refused
        try:
            if len(path) > 3:  # not /api/v1/provision
                device = await self.server.device(path[2])
                observing = await self._observing(request, path, device)
                if observing is not None:
                    return observing
            block2 = request.opt.block2
            if block2 is not None and block2.block_number > 0 and block1 is None and (
                    len(path) == 3 or path[3] not in _PACKAGES):
                return self.server.downloads.block(request)  # a follow-up of an answer sent block-wise
            whole = self.server.uploads.feed(request, sender)
            if whole is None:
                answer = _message(aiocoap.CONTINUE)
                answer.opt.block1 = block1
                return answer
            answer = await self._route(whole, path)
        except blocks.Incomplete:
            return _message(aiocoap.REQUEST_ENTITY_INCOMPLETE)
        except blocks.Full:
            return self.server.busy()
        except device_api.Unauthorized:
            return _message(aiocoap.UNAUTHORIZED)
        except device_api.NotFound:
            return _message(aiocoap.NOT_FOUND)
        except mqtt_api.BadPayload as e:
            return _message(aiocoap.BAD_REQUEST, str(e)[:512].encode())
        except mqtt_api.Refused as e:
            return self.server.too_many(e)
        except device_api.TooManyProvisions as e:
            message = _message(aiocoap.TOO_MANY_REQUESTS, b"Too many provisioning requests: try again later.")
            message.opt.max_age = int(e.args[0])
            return message
        if block1 is not None:
            answer.opt.block1 = whole.opt.block1
        if answer.opt.block2 is None:
            answer = blocks.first_block(self.server.downloads, request, answer, sender)
        return answer

    @staticmethod
    def _refusal(request, path: list) -> aiocoap.Message | None:
        """The answer to a request the path or the method alone refuses (no token looked up, nothing kept)."""
        if len(path) < 3 or path[:2] != ["api", "v1"]:
            return _message(aiocoap.NOT_FOUND)
        if request.code not in (GET, POST):
            return _message(aiocoap.METHOD_NOT_ALLOWED)
        if path[2] == "provision" and len(path) == 3:
            return _message(aiocoap.BAD_REQUEST) if request.code != POST else None
        if len(path) < 4 or path[3] not in FEATURES:
            return _message(aiocoap.BAD_REQUEST)
        feature, rest = path[3], path[4:]
        if request.code == GET:
            if feature in ("telemetry", "claim") or (feature == "rpc" and request.opt.observe not in (0, 1)):
                return _message(aiocoap.BAD_REQUEST)
        elif feature in _PACKAGES:
            return _message(aiocoap.BAD_REQUEST)
        elif feature == "rpc" and rest and _call_id(rest) is None:
            return _message(aiocoap.BAD_REQUEST, b"the RPC id is not the call's integer id")
        return None

    async def _observing(self, request, path: list, device):
        """An Observe registration (``(token, feature, device)``), the answer to a cancellation of .../rpc, or
        None (a GET with Observe: 1 of .../attributes reads them, as a GET without it)."""
        feature = path[3]
        if request.code != GET or feature not in ("attributes", "rpc") or request.opt.observe not in (0, 1):
            return None
        if request.opt.observe == 0:
            return path[2], feature, device
        self.server.observations.cancel(device.pk, feature, request.remote)
        return _message(aiocoap.CONTENT) if feature == "rpc" else None

    async def _route(self, request, path: list) -> aiocoap.Message:
        if len(path) == 3:  # /api/v1/provision
            answer = await self.server.db(device_api.provision, request.payload,
                                          str((getattr(request.remote, "sockaddr", None) or ("",))[0]))
            return _json(answer, aiocoap.CREATED if answer.get("status") == "SUCCESS" else aiocoap.BAD_REQUEST)
        token, feature, rest = path[2], path[3], path[4:]
        db, payload = self.server.db, request.payload
        if request.code == GET:
            if feature in _PACKAGES:
                return await self._package(request, token, _PACKAGES[feature])
            query = _query(request)
            answer = await db(_with_device, token, device_api.get_attributes, query.get("clientKeys"),
                              query.get("sharedKeys"))
            return _json(answer) if answer else _message(aiocoap.NOT_FOUND)  # as ThingsBoard's JSON adaptor
        if feature == "telemetry":
            await db(_with_device, token, mqtt_api.post_telemetry, payload)
        elif feature == "attributes":
            await db(_with_device, token, mqtt_api.post_attributes, payload)
        elif feature == "claim":
            await db(_with_device, token, device_api.claim, payload)
        elif rest:
            await db(_with_device, token, mqtt_api.rpc_reply, _call_id(rest), payload)
        else:
            return await self._client_rpc(token, payload)
        return _message(aiocoap.CREATED)

    async def _package(self, request, token: str, ota_type: str) -> aiocoap.Message:
        """A package, whole or a chunk; a whole one over one block is read block by block (Block2)."""
        block2 = request.opt.block2
        size_exp = min(block2.size_exponent if block2 else 6, request.remote.maximum_block_size_exp, 6)
        number, size = (block2.block_number if block2 else 0), 1 << (size_exp + 4)
        data, total = await self.server.db(_with_device, token, device_api.package, ota_type, _query(request),
                                           (number, size))
        answer = _message(aiocoap.CONTENT, data, 42)
        if total == len(data):  # all of the answer at hand: a chunk, or a file of one block
            if len(data) <= size and number == 0:
                if block2 is not None:
                    answer.opt.block2 = (0, False, size_exp)
                return answer
            if number * size >= len(data):
                return _message(aiocoap.BAD_REQUEST, b"Block request out of bounds")
            return answer._extract_block(number, size_exp, request.remote.maximum_payload_size)
        if number * size >= total:
            return _message(aiocoap.BAD_REQUEST, b"Block request out of bounds")
        answer.opt.block2 = (number, (number + 1) * size < total, size_exp)
        return answer

    async def _client_rpc(self, token: str, payload: bytes) -> aiocoap.Message:
        """A client-side call: answered with what the rule engine's "rpc call reply" node sends back."""
        db = self.server.db
        device = await db(device_api.device, token)
        if self.client_calls.get(device.pk, 0) >= MAX_CLIENT_CALLS:
            return _message(aiocoap.TOO_MANY_REQUESTS, b"too many client-side RPC calls wait for their answers")
        session_id, request_id = str(uuid.uuid4()), str(next(_request_ids))
        waiter = await db(waits.arm, mqtt_api.client_rpc_key(device, session_id, request_id))
        self.client_calls[device.pk] = self.client_calls.get(device.pk, 0) + 1
        try:
            message = await db(_with_device, token, mqtt_api.client_rpc_message, session_id, request_id, payload)
            await db(outbox.queue, message)
            with self.server.waiting():
                answered = await waiter.wait_async(CLIENT_RPC_TIMEOUT_S)
            if not answered:
                return _message(aiocoap.GATEWAY_TIMEOUT)
            body = waiter.payload
            return _message(aiocoap.CONTENT, body.encode() if isinstance(body, str) else b"{}", 50)
        finally:
            waits.disarm(waiter)
            left = self.client_calls.get(device.pk, 1) - 1
            if left:
                self.client_calls[device.pk] = left
            else:
                self.client_calls.pop(device.pk, None)
