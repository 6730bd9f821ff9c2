"""AWS_SQS and AWS_KINESIS end to end: each integration is created with ThingsBoard's JSON through
``POST /api/integration``, run by the real listener host (in a thread, as in ``serve``), fed
by its real peer (moto server for SQS, kinesalite for Kinesis), stores telemetry through its
converter, and sends a downlink submitted as the rule engine does, read back from the peer. A
wrong secret (moto with IAM authentication on) shows as a FAILED lifecycle event and the
integration's last error; ``POST /api/integration/check`` names it too.
"""

import json

import pytest

from converters.models import DebugEvent
from devices.models import Device
from devices.telemetry import latest
from integrations.downlinks import submit
from integrations.models import DownlinkStatus, Integration, IntegrationStats, OutgoingDownlink
from integrations.runner import Runner, RunnerThread
from integrations.tests.aws_peers import aws_client
from integrations.tests.brokers import wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.test_aws_kinesis import config as kinesis_config
from integrations.tests.test_aws_kinesis import make_stream, put
from integrations.tests.test_aws_sqs import config as sqs_config
from integrations.tests.test_aws_sqs import make_queue, receive_all, run, send
from integrations.tests.test_rabbitmq import _delete_telemetry
from integrations.tests.uplinks import converter

pytestmark = pytest.mark.django_db(transaction=True)  # the host works in its own threads and connections

SQS_ENCODER = "return {contentType: 'JSON', data: JSON.stringify({version: msg.firmware}), metadata: {}};"
KINESIS_ENCODER = """
return {contentType: 'JSON', data: JSON.stringify({devName: metadata.deviceName, version: msg.firmware}),
        metadata: {streamName: '%s', partitionKey: '123'}};
"""








@pytest.fixture
def host(tenant):
    from tbproject.celery import app as celery_app

    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    runner = Runner(lease_seconds=3, poll_seconds=0.3)
    runner.outbox.poll = 0.3
    thread = RunnerThread(runner).start()
    yield runner
    thread.stop()
    celery_app.conf.task_always_eager = eager
    _delete_telemetry(tenant)


def create(api, tenant, kind: str, configuration: dict, *, encoder: str | None = None, name: str = "AWS") -> str:
    body = {"name": name, "type": kind, "enabled": True, "debugSettings": {"failuresEnabled": True},
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter(tenant).pk)},
            "configuration": {**configuration, "metadata": {}}}
    if encoder:
        body["downlinkConverterId"] = {"entityType": "CONVERTER", "id": str(make_encoder(tenant, encoder).pk)}
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def stored_telemetry(tenant, device_name: str) -> dict:
    device = wait_until(lambda: Device.objects.filter(tenant=tenant, name=device_name).first(), 20,
                        message="the device")
    stored = wait_until(lambda: latest(device.pk, ["temperature"]), message="the telemetry")
    return {key: value for key, (_, value) in stored.items()}


def delivered(integration_id: str) -> OutgoingDownlink:
    return wait_until(lambda: OutgoingDownlink.objects.filter(integration_id=integration_id,
                                                              status=DownlinkStatus.DELIVERED).first(),
                      20, message="the DELIVERED downlink")


def test_sqs_uplink_to_telemetry_and_a_downlink_to_the_queue(api, tenant, moto, host):
    queue, downlinks = run(make_queue(moto)), run(make_queue(moto))
    integration_id = create(api, tenant, "AWS_SQS", sqs_config(moto, queue, downlinkQueueUrl=downlinks),
                            encoder=SQS_ENCODER)
    wait_until(lambda: Integration.objects.filter(pk=integration_id, connected=True).exists(), 20,
               message="the integration to connect")
    run(send(moto, queue, [json.dumps({"name": "sqs-meter", "telemetry": {"temperature": 22.5}})]))
    assert stored_telemetry(tenant, "sqs-meter") == {"temperature": 22.5}
    started = DebugEvent.objects.get(entity_id=integration_id, event_type="LC_EVENT", body__event="STARTED")
    assert started.body["status"] == "Success"
    wait_until(lambda: IntegrationStats.objects.filter(integration_id=integration_id, messages_processed=1).exists(),
               message="the message counted in the statistics")
    submit(tenant.pk, integration_id, attributes_msg(tenant, "sqs-meter", {"firmware": "0.11"}))
    delivered(integration_id)
    assert [m["Body"] for m in run(receive_all(moto, downlinks))] == ['{"version":"0.11"}']


def test_kinesis_uplink_to_telemetry_and_a_downlink_to_the_stream(api, tenant, kinesalite, host):
    stream, downlinks = run(make_stream(kinesalite, shards=1)), run(make_stream(kinesalite, shards=1))
    integration_id = create(api, tenant, "AWS_KINESIS", kinesis_config(kinesalite, stream),
                            encoder=KINESIS_ENCODER % downlinks)
    wait_until(lambda: Integration.objects.filter(pk=integration_id, connected=True).exists(), 20,
               message="the integration to connect")
    run(put(kinesalite, stream, [("123", json.dumps({"name": "kitchen", "telemetry": {"temperature": 22}}).encode())]))
    assert stored_telemetry(tenant, "kitchen") == {"temperature": 22}
    submit(tenant.pk, integration_id, attributes_msg(tenant, "kitchen", {"firmware": "v.0.11"}))
    delivered(integration_id)

    async def read_back():
        async with aws_client("kinesis", kinesalite.url) as kinesis:
            shard = (await kinesis.list_shards(StreamName=downlinks))["Shards"][0]["ShardId"]
            iterator = (await kinesis.get_shard_iterator(StreamName=downlinks, ShardId=shard,
                                                         ShardIteratorType="TRIM_HORIZON"))["ShardIterator"]
            return (await kinesis.get_records(ShardIterator=iterator))["Records"]

    records = run(read_back())
    assert [(r["Data"], r["PartitionKey"]) for r in records] == [(b'{"devName":"kitchen","version":"v.0.11"}', "123")]


@pytest.mark.parametrize("kind", ["AWS_SQS", "AWS_KINESIS"])
def test_a_wrong_secret_shows_in_the_status_the_lifecycle_events_and_the_check(api, tenant, moto_iam, host, kind):
    if kind == "AWS_SQS":
        configuration = sqs_config(moto_iam, run(make_queue(moto_iam)), secretAccessKey="not-the-secret")
    else:
        configuration = kinesis_config(moto_iam, run(make_stream(moto_iam, shards=1)), secretAccessKey="not-the-secret")
    integration_id = create(api, tenant, kind, configuration, name=f"wrong {kind}")
    failed = wait_until(lambda: DebugEvent.objects.filter(entity_id=integration_id, event_type="LC_EVENT",
                                                          body__event="FAILED").first(), 20,
                        message="the FAILED lifecycle event")
    assert failed.body["status"] == "Failure"
    assert "AWS refused the credentials (SignatureDoesNotMatch" in failed.body["error"]
    row = wait_until(lambda: Integration.objects.filter(pk=integration_id).exclude(last_error="").first(),
                     message="the last error")  # written just after the event
    assert row.last_error == failed.body["error"] and not row.connected
    check = api.post("/api/integration/check", {
        "name": "check", "type": kind, "configuration": configuration,
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter(tenant).pk)}}, format="json")
    assert check.status_code == 400 and "AWS refused the credentials" in json.dumps(check.json())
    configuration[next(iter(configuration))]["secretAccessKey"] = moto_iam.key[1]
    check = api.post("/api/integration/check", {
        "name": "check", "type": kind, "configuration": configuration,
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter(tenant).pk)}}, format="json")
    assert check.status_code == 200, check.content
