"""ThingsBoard's generated client (tb-pe-client) commenting on an alarm on the real server. Reuses
the server and client fixtures of tests/test_tb_client.py."""

import pytest
from tb_pe_client.models import AlarmComment, AlarmCommentId

from rulechains.tests.test_tb_client_alarms import new_alarm
from tests.test_tb_client import client, device, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_comments_edits_deletes_and_notes_actions(client, device):  # noqa: F811
    me = client.get_user()
    alarm = client.save_alarm(new_alarm(device, "Client commented"))
    alarm_id = str(alarm.id.id)
    saved = client.save_alarm_comment(alarm_id, AlarmComment(comment={"text": "Please take a look"}))
    assert saved.type == "OTHER" and str(saved.user_id.id) == str(me.id.id) and saved.created_time > 0
    edited = client.save_alarm_comment(alarm_id, AlarmComment(id=AlarmCommentId(id=saved.id.id),
                                                               comment={"text": "Look, please"}))
    assert edited.comment["text"] == "Look, please" and edited.comment["edited"] == "true"
    client.ack_alarm(alarm_id)
    page = client.get_alarm_comments(alarm_id, 10, 0, sort_property="createdTime", sort_order="ASC")
    assert [c.type for c in page.data] == ["OTHER", "SYSTEM"] and page.total_elements == 2
    assert page.data[0].email == me.email and page.data[1].comment["subtype"] == "ACK"
    assert client.delete_alarm_comment(alarm_id, str(saved.id.id)) is None
    first = client.get_alarm_comments(alarm_id, 10, 0).data[0]
    assert first.type == "SYSTEM" and first.comment["subtype"] == "COMMENT_DELETED" and first.user_id is None
