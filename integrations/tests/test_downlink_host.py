"""The listener host's outbox sends a claimed batch concurrently under one deadline: each row's
outcome (sent, its integration's error, an unexpected error, too slow, not hosted here), in
order. No database: the rows are plain objects and the integrations fakes of the downlink call."""

import asyncio
from types import SimpleNamespace

import pytest

from integrations import downlink_host
from integrations.downlink_host import DownlinkOutbox
from integrations.types.base import IntegrationError


class _Instance:
    def __init__(self, behaviour):
        self.behaviour, self.sent = behaviour, []

    async def downlink(self, downlink):
        action = self.behaviour.get(downlink.device_name)
        if action == "hang":
            await asyncio.sleep(3600)
        if isinstance(action, BaseException):
            raise action
        await asyncio.sleep(0)
        self.sent.append(downlink.device_name)


def _row(integration_id, name, payload=b"{}"):
    return SimpleNamespace(pk=name, integration_id=integration_id, device_name=name, payload=payload,
                           content_type="JSON", metadata={}, route={}, originator_id=None, created_ts=1)


def test_each_row_gets_its_own_outcome_in_order_under_one_deadline(monkeypatch):
    monkeypatch.setattr(downlink_host, "SEND_TIMEOUT", 0.2)
    instance = _Instance({"refused": IntegrationError("no such topic", permanent=True), "buggy": ValueError("bug"),
                          "slow": "hang"})
    hosted = {"i-1": SimpleNamespace(instance=instance)}
    rows = [_row("i-1", "ok-1"), _row("i-1", "refused"), _row("i-2", "elsewhere"), _row("i-1", "buggy"),
            _row("i-1", "slow"), _row("i-1", "unreadable", payload=object()), _row("i-1", "ok-2")]
    outbox = DownlinkOutbox(runner=None)

    outcomes = asyncio.run(asyncio.wait_for(outbox._send_all(hosted, rows), 20))

    assert [(row.device_name, error, permanent) for row, error, permanent in outcomes] == [
        ("ok-1", None, False),
        ("refused", "no such topic", True),
        ("elsewhere", "The integration stopped on this host before the downlink was sent", False),
        ("buggy", "bug", False),
        ("slow", "Sending took longer than 0 s", False),
        ("unreadable", "cannot convert 'object' object to bytes", False),
        ("ok-2", None, False),
    ]
    # "elsewhere" is not hosted here: not a failure of this host
    assert sorted(instance.sent) == ["ok-1", "ok-2"] and outbox.sent == 2 and outbox.failed == 4


def test_a_stopping_host_cancels_what_it_was_sending():
    instance = _Instance({"slow": "hang"})
    hosted = {"i-1": SimpleNamespace(instance=instance)}
    outbox = DownlinkOutbox(runner=None)

    async def scenario():
        sending = asyncio.ensure_future(outbox._send_all(hosted, [_row("i-1", "slow")]))
        await asyncio.sleep(0.05)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        await asyncio.sleep(0)
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(scenario()) == []  # the downlink's task went with it
