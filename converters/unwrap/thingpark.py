"""Actility ThingPark and ThingPark Enterprise: the ``DevEUI_uplink`` document an application
server routing profile posts (JSON format). ``payload_hex`` is the FRMPayload; a ThingPark
driver's decoded ``payload`` object is kept as ``decoded``. ``DevEUI_notification``,
``DevEUI_location`` and downlink reports are NotAnUplink."""

from converters.unwrap.base import NotAnUplink, UnwrapError, Unwrapped, envelope, from_hex, iso_ms, pick, scalars

__all__ = ["unwrap"]


def unwrap(raw, metadata: dict | None = None) -> Unwrapped:
    doc = envelope(raw, "ThingPark")
    up = doc.get("DevEUI_uplink")
    if not isinstance(up, dict):
        other = next((k for k in doc if k.startswith("DevEUI_")), None)
        if other:
            raise NotAnUplink(f"a ThingPark '{other}' document carries no uplink")
        raise UnwrapError("not a ThingPark uplink: DevEUI_uplink is missing")
    if not up.get("DevEUI"):
        raise UnwrapError("not a ThingPark uplink: DevEUI_uplink.DevEUI is missing")
    lrrs = pick(up, "Lrrs", "Lrr")
    fields = {
        "eui": up.get("DevEUI"),
        "ts": iso_ms(up.get("Time")),
        "fPort": up.get("FPort"),
        "fCnt": up.get("FCntUp"),
        "fCntDn": up.get("FCntDn"),
        "devAddr": up.get("DevAddr"),
        "adr": up.get("ADRbit"),
        "mType": up.get("MType"),
        "data": up.get("payload_hex"),
        "decoded": up.get("payload"),
        "rssi": up.get("LrrRSSI"),
        "snr": up.get("LrrSNR"),
        "esp": up.get("LrrESP"),
        "spreadingFactor": up.get("SpFact"),
        "subBand": up.get("SubBand"),
        "channel": up.get("Channel"),
        "frequency": up.get("Frequency"),
        "gatewayId": up.get("Lrrid"),
        "gatewayCount": up.get("DevLrrCnt", len(lrrs) if isinstance(lrrs, list) else None),
        "latitude": up.get("LrrLAT"),
        "longitude": up.get("LrrLON"),
        "late": up.get("Late"),
        "customerId": up.get("CustomerID"),
        "instantPer": up.get("InstantPER"),
        "meanPer": up.get("MeanPER"),
        "txPower": up.get("TxPower"),
        "nbTrans": up.get("NbTrans"),
        "deviceClass": up.get("DynamicClass"),
        "batteryLevel": up.get("DevBatteryLevel") if up.get("DevBatteryLevel") is not None else None,
    }
    return Unwrapped(from_hex(up.get("payload_hex"), "DevEUI_uplink.payload_hex"), scalars(fields))
