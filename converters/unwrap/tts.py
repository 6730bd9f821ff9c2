"""The Things Stack v3 (TTN Community and TTI): an ``ApplicationUp`` with ``uplink_message``,
as its MQTT ``.../up`` topic and webhooks deliver it. ``frm_payload`` is base64; a payload
formatter's result (``decoded_payload``) is kept as ``decoded``. Join accepts, downlink
reports and the other ApplicationUp kinds are NotAnUplink."""

from converters.unwrap.base import (
    NotAnUplink,
    UnwrapError,
    Unwrapped,
    envelope,
    from_base64,
    iso_ms,
    pick,
    scalars,
    strongest,
)

__all__ = ["unwrap"]

_OTHER_KINDS = ("join_accept", "downlink_ack", "downlink_nack", "downlink_sent", "downlink_failed",
                "downlink_queued", "downlink_queue_invalidated", "location_solved", "service_data")


def unwrap(raw, metadata: dict | None = None) -> Unwrapped:
    msg = envelope(raw, "The Things Stack")
    if "data" in msg and isinstance(msg["data"], dict) and "end_device_ids" in msg["data"]:
        msg = msg["data"]  # a webhook/event-stream wrapper {"name": "as.up.data.forward", "data": {...}}
    ids = msg.get("end_device_ids")
    if not isinstance(ids, dict):
        raise UnwrapError("not a The Things Stack message: end_device_ids is missing")
    up = msg.get("uplink_message")
    if not isinstance(up, dict):
        kind = next((k for k in _OTHER_KINDS if k in msg), "non-uplink")
        raise NotAnUplink(f"a The Things Stack '{kind}' message carries no uplink")
    gateway = strongest(up.get("rx_metadata"))
    location = gateway.get("location") if isinstance(gateway.get("location"), dict) else {}
    lora = pick(up, "settings", "data_rate", "lora") or {}
    network = up.get("network_ids") if isinstance(up.get("network_ids"), dict) else {}
    fields = {
        "eui": ids.get("dev_eui"),
        "deviceId": ids.get("device_id"),
        "applicationId": pick(ids, "application_ids", "application_id"),
        "joinEui": ids.get("join_eui"),
        "devAddr": ids.get("dev_addr"),
        "fPort": up.get("f_port"),
        "fCnt": up.get("f_cnt"),
        "confirmed": up.get("confirmed"),
        "data": up.get("frm_payload"),
        "decoded": up.get("decoded_payload"),
        "rssi": gateway.get("rssi"),
        "snr": gateway.get("snr"),
        "channel": gateway.get("channel_index"),
        "gatewayId": pick(gateway, "gateway_ids", "gateway_id"),
        "gatewayEui": pick(gateway, "gateway_ids", "eui"),
        "gatewayCount": len(up["rx_metadata"]) if isinstance(up.get("rx_metadata"), list) else None,
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "altitude": location.get("altitude"),
        "frequency": pick(up, "settings", "frequency"),
        "bandwidth": lora.get("bandwidth"),
        "spreadingFactor": lora.get("spreading_factor"),
        # ThingsBoard's library results (TTN and TTI, validated against ThingsBoard) have no
        # codeRate for data_rate.lora.coding_rate: only the older settings.coding_rate gives one
        "codeRate": pick(up, "settings", "coding_rate"),
        "consumedAirtime": up.get("consumed_airtime"),
        "netId": network.get("net_id"),
        "tenantId": network.get("tenant_id"),
        "clusterId": network.get("cluster_id"),
        "clusterAddress": network.get("cluster_address"),
        "simulated": msg.get("simulated"),
        "ts": iso_ms(up.get("received_at")) or iso_ms(msg.get("received_at")),
    }
    if not fields["eui"] and not fields["deviceId"]:
        raise UnwrapError("not a The Things Stack uplink: end_device_ids has neither dev_eui nor device_id")
    return Unwrapped(from_base64(up.get("frm_payload"), "uplink_message.frm_payload"), scalars(fields))
