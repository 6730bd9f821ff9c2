"""Calculated field JSON as ThingsBoard's UI and client send it."""

__all__ = ["simple", "script", "ts_arg", "attr_arg", "telemetry", "latest", "save"]


def ts_arg(key, **extra) -> dict:
    return {"refEntityKey": {"key": key, "type": "TS_LATEST"}, **extra}


def attr_arg(key, scope="SERVER_SCOPE", **extra) -> dict:
    return {"refEntityKey": {"key": key, "type": "ATTRIBUTE", "scope": scope}, **extra}


def _entity(entity) -> dict:
    kind = {"Device": "DEVICE", "Asset": "ASSET", "DeviceProfile": "DEVICE_PROFILE",
            "AssetProfile": "ASSET_PROFILE"}[type(entity).__name__]
    return {"entityType": kind, "id": str(entity.pk)}


def simple(entity, expression, arguments, output="out", *, name="F", output_type="TIME_SERIES", decimals=None,
           **extra) -> dict:
    out = {"type": output_type, "name": output, "decimalsByDefault": decimals}
    if output_type == "ATTRIBUTES":
        out["scope"] = "SERVER_SCOPE"
    return {"name": name, "type": "SIMPLE", "entityId": _entity(entity), "configurationVersion": 1,
            "debugSettings": {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0},
            "configuration": {"type": "SIMPLE", "arguments": arguments, "expression": expression, "output": out,
                              **extra}}


def script(entity, body, arguments, *, name="S", output_type="TIME_SERIES", all_events=False) -> dict:
    out = {"type": output_type}
    if output_type == "ATTRIBUTES":
        out["scope"] = "SERVER_SCOPE"
    return {"name": name, "type": "SCRIPT", "entityId": _entity(entity),
            "debugSettings": {"failuresEnabled": True, "allEnabled": all_events, "allEnabledUntil": 0},
            "configuration": {"type": "SCRIPT", "arguments": arguments, "expression": body, "output": out}}


def save(api, body, status=200):
    res = api.post("/api/calculatedField", body, format="json")
    assert res.status_code == status, res.content
    return res.json()


def telemetry(api, entity, values: dict, kind="DEVICE"):
    res = api.post(f"/api/plugins/telemetry/{kind}/{entity.pk}/timeseries/ANY", values, format="json")
    assert res.status_code == 200, res.content


def latest(entity, *keys) -> dict:
    from devices.telemetry import latest as read

    return {k: v for k, (_, v) in read(entity.pk, list(keys)).items()}
