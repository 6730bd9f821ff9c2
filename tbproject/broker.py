"""Kombu's Redis transport with an atomic receive: a task message is never lost in the handover.

Kombu's Redis transport takes a task message off the queue with BRPOP and only then records it
as unacknowledged (the ``unacked`` hash and ``unacked_index`` zset that the visibility-timeout
restore reads), in a second command. A worker killed between the two, or a Redis killed after
the BRPOP reached its append-only file but before the reply reached the worker, loses that
message (the fault suite saw 1-2 uplinks lost in about half of its worker and Redis kills).

Here the message never leaves Redis's keeping:

- the consumer takes it with ``BLMOVE <queue> inflight:<id> RIGHT LEFT`` into an in-flight list
  of its own (one per channel and connection socket), instead of BRPOP;
- the one MULTI/EXEC that records it as unacknowledged (kombu's ZADD + HSET) also removes it
  from that list (LREM): it is in exactly one of the two places at every instant;
- every in-flight list is registered in ``inflight_index`` (a zset: list -> last heartbeat) and
  ``inflight_queues`` (a hash: list -> its queue); a consumer refreshes its heartbeat with
  kombu's periodic unacked restore and at least every quarter of the visibility timeout while
  it takes messages. The restore also puts back, atomically (a Lua script), what lists whose
  heartbeat is older than the visibility timeout hold, and drops those lists: a killed worker's
  in-flight message comes back when its unacknowledged ones do. A channel whose connection was
  replaced (Redis restarted, a stale socket dropped) takes a new list and leaves its old one to
  that sweep, since a reply lost with the old socket may have left a message in it.

Everything else is kombu's: the queue is the same list (``celery``, kombu's JSON envelope, LPUSH
in), publishing is untouched, the unacknowledged structures are kombu's, and the event-loop
integration (polling the socket, pausing while prefetch is full, health checks, reconnects) sees
the same single command in flight on the same connection, with the same ``_in_poll`` flags. The
atomic receive applies to a channel consuming exactly one queue with a single priority step
(``priority_steps: [0]``, set in settings); otherwise, and with a global key prefix, the channel
falls back to kombu's BRPOP. Needs Redis 6.2 or later (BLMOVE, ZRANGE BYSCORE).
"""

from math import inf
from queue import Empty
from time import monotonic, time
from uuid import uuid4

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

__all__ = ["Transport", "Channel", "QoS", "INFLIGHT_INDEX", "INFLIGHT_QUEUES", "INFLIGHT_PREFIX"]

INFLIGHT_INDEX = "inflight_index"
INFLIGHT_QUEUES = "inflight_queues"
INFLIGHT_PREFIX = "inflight:"
#: most stale in-flight lists one sweep puts back
SWEEP_LIMIT = 100

#: KEYS: index, queues hash; ARGV: ceiling (a heartbeat at or before it is stale), limit.
#: Each stale list's messages go back to the consuming end of its queue, oldest consumed first.
SWEEP = """
local lists = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, list in ipairs(lists) do
  local queue = redis.call('HGET', KEYS[2], list)
  if queue then
    while redis.call('LMOVE', list, queue, 'LEFT', 'RIGHT') do
      moved = moved + 1
    end
    redis.call('DEL', list)
  end
  redis.call('ZREM', KEYS[1], list)
  redis.call('HDEL', KEYS[2], list)
end
return moved
"""


class QoS(kombu_redis.QoS):
    def append(self, message, delivery_tag):
        transport = self.channel.connection
        pending = getattr(transport, "_inflight_receiving", None)
        if pending is None:
            return super().append(message, delivery_tag)
        # kombu's append, with the in-flight copy removed in the same MULTI/EXEC
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        with self.pipe_or_acquire() as pipe:
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()}) \
                .hset(self.unacked_key, delivery_tag, record) \
                .lrem(pending[0], 1, pending[1]) \
                .execute()
        transport._inflight_receiving = None
        virtual.QoS.append(self, message, delivery_tag)

    def restore_visible(self, start=0, num=10, interval=10):
        scans = (self._vrestore_count % (interval or 1)) == 0  # the call on which kombu scans
        if scans:
            with self.channel.conn_or_acquire() as client:
                pipe = client.pipeline()
                beating = [channel for channel in list(self.channel.connection.cycle._channels)
                           if isinstance(channel, Channel) and channel._inflight_heartbeat(pipe)]
                pipe.eval(SWEEP, 2, INFLIGHT_INDEX, INFLIGHT_QUEUES, time() - self.visibility_timeout, SWEEP_LIMIT)
                pipe.execute()
                for channel in beating:
                    channel._inflight_beat = monotonic()
        return super().restore_visible(start, num, interval)


class Channel(kombu_redis.Channel):
    QoS = QoS

    #: (list, socket it was made for, queue key) of the current in-flight list
    _inflight = None
    #: monotonic time of its last heartbeat
    _inflight_beat = -inf
    #: (list, queue name) of the BLMOVE in flight, None while none is (or a BRPOP is)
    _moving = None
    #: (connection pool, redis.Redis on it) that conn_or_acquire hands out
    _shared_client = None

    def _create_client(self, asynchronous=False):
        """Kombu builds a new ``redis.Redis`` for every command it sends outside the consumer's
        poll: each task message's unacknowledged record and its acknowledgement in the worker,
        each publish. redis-py 8 builds its response-callback table in every constructor, about
        100 us: a sixth of the worker consumer's samples under the MQTT benchmark (docs/performance.md,
        "The broker's clients"). One client per pool is handed out instead; redis.Redis takes a
        connection from its pool for each command or pipeline, so sharing one is safe. A new pool
        (kombu makes one after the connection is reset) gets a new client."""
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool, shared = self.pool, self._shared_client
        if shared is None or shared[0] is not pool:
            shared = self._shared_client = (pool, super()._create_client())
        return shared[1]

    def _inflight_source(self):
        """The one Redis list this channel takes from, or None (kombu's BRPOP then)."""
        queues = self.active_queues
        if len(queues) != 1 or len(self.priority_steps) != 1 or self.global_keyprefix:
            return None
        return queues[0], self._q_for_pri(queues[0], self.priority_steps[0])

    def _inflight_heartbeat(self, pipe) -> bool:
        """Queue the registration of the current list in ``pipe``; the caller notes the beat once
        it executed (a list is never filled before it is registered)."""
        if self._inflight is None:
            return False
        key, _, source = self._inflight
        pipe.zadd(INFLIGHT_INDEX, {key: time()}).hset(INFLIGHT_QUEUES, key, source)
        return True

    def _brpop_start(self, timeout=None):
        found = self._inflight_source()
        if found is None:
            self._moving = None
            return super()._brpop_start(timeout)
        queue, source = found
        if timeout is None:
            timeout = self.brpop_timeout
        connection = self.client.connection
        current = self._inflight
        if current is None or current[1] is not connection._sock or current[2] != source:
            # a new connection: a new list (a reply lost with the old socket may have left a
            # message in the old one, which the sweep puts back once its heartbeat is stale)
            self._inflight = (f"{INFLIGHT_PREFIX}{uuid4().hex}", connection._sock, source)
            self._inflight_beat = -inf
        if monotonic() - self._inflight_beat >= self.visibility_timeout / 4:
            with self.conn_or_acquire() as client:
                pipe = client.pipeline()
                self._inflight_heartbeat(pipe)
                pipe.execute()
            self._inflight_beat = monotonic()
        key = self._inflight[0]
        self._moving = (key, queue)
        self._in_poll = connection
        self._brpop_sent_at = monotonic()
        connection.send_command("BLMOVE", source, key, "RIGHT", "LEFT", timeout or 0)

    def _brpop_read(self, **options):
        moving, self._moving = self._moving, None
        if moving is None:
            return super()._brpop_read(**options)
        key, queue = moving
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if item is None:
                raise Empty()
            self._deliver_moved(key, queue, item)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()

    def _deliver_moved(self, key, queue, item) -> None:
        """Deliver; the consumer's QoS.append records it and removes the in-flight copy at once."""
        transport = self.connection
        pending = transport._inflight_receiving = (key, item)
        try:
            self.connection._deliver(loads(bytes_to_str(item)), queue)
        finally:
            if transport._inflight_receiving is pending:
                # not recorded: a no_ack consumer, or the delivery failed before it was recorded
                transport._inflight_receiving = None
                try:
                    with self.conn_or_acquire() as client:
                        client.lrem(key, 1, item)
                except self.connection_errors:
                    self._inflight = None  # the message stays in the old list, for the sweep

    def _poll_error(self, type, **options):
        if type == "BRPOP" and self._moving is not None:
            self._moving, self._inflight = None, None  # its reply is discarded: leave the list to the sweep
        return super()._poll_error(type, **options)


class Transport(kombu_redis.Transport):
    Channel = Channel
    #: (in-flight list, message) between a BLMOVE's reply and the QoS.append that records it
    _inflight_receiving = None
