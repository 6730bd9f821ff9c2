"""ThingsBoard 4.4's integration package (``GET /api/integration/{id}/export-package``, "Export
integration as IoT Hub package"): a ZIP of

    integration.json   the integration as ``GET /api/integration/{id}`` answers it
    uplink.json        its uplink converter as ``GET /api/converter/{id}`` answers it
    downlink.json      its downlink converter, only when it has one
    form.json          {"fields": [...]}: what an installer must fill in, one field per secret

Secrets are tokenised: each stored secret (transfer.secrets: the type's ``secret_fields``, each
value of a header filter apart, and the remote ``secret``) becomes the placeholder
``${<path in integration.json>}``, the ``${variable}`` form ThingsBoard's IoT Hub resolves from
form values, and a field of form.json of that name. A
secret that is not set stays empty and asks for nothing. The converters carry no secrets. The
routing key, which is all an HTTP-family integration asks of a sender, is tokenised the same way
(``${routingKey}``, a field an installer may leave empty: the integration then gets a new one).
"""

import json
import re
import zipfile
from io import BytesIO

from rest_framework.utils.encoders import JSONEncoder

from integrations.api.serializers import IntegrationSerializer
from integrations.models import Integration
from integrations.types.secret_paths import split_path
from transfer.export import converters_json, stored_secrets
from transfer.secrets import put_path

__all__ = ["CONTENT_TYPE", "package_files", "package_zip", "package_filename", "placeholder"]

CONTENT_TYPE = "application/zip"
_PREFIX = "integration."  # transfer.secrets' paths are a package's; the placeholder names integration.json's


def placeholder(name: str) -> str:
    return "${" + name + "}"


def package_files(integration: Integration) -> dict[str, dict]:
    """The ZIP's files as JSON values, by file name."""
    package = {"integration": dict(IntegrationSerializer(integration).data)}
    fields = []
    for path in stored_secrets(package):
        name = path.removeprefix(_PREFIX)
        put_path(package, path, placeholder(name))
        fields.append({"name": name, "label": _label(name), "type": "password", "required": True})
    if package["integration"].get("routingKey"):
        package["integration"]["routingKey"] = placeholder("routingKey")
        fields.append({"name": "routingKey", "label": "Routing key", "type": "text", "required": False})
    files = {"integration.json": package["integration"]}
    files.update({f"{direction}.json": body for direction, body in converters_json(integration).items()})
    files["form.json"] = {"fields": fields}
    return files


def package_zip(integration: Integration) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in package_files(integration).items():
            archive.writestr(name, json.dumps(body, cls=JSONEncoder, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def package_filename(integration: Integration) -> str:
    """``<integration name>.zip``, the name reduced to characters every file system accepts."""
    stem = re.sub(r"[^\w.\- ]+", "_", integration.name).strip(" ._") or "integration"
    return f"{stem[:100]}.zip"


def _label(name: str) -> str:
    """``configuration.clientConfiguration.credentials.privateKeyPassword`` -> "Private key password";
    ``configuration.headersFilter.X-Api-Key`` -> "Header X-Api-Key" (the value a sender must send)."""
    parts = split_path(name)
    if len(parts) >= 2 and parts[-2] == "headersFilter":
        return f"Header {parts[-1]}"
    last = name.rstrip("]").rsplit("[", 1)[-1] if name.endswith("]") else name.rsplit(".", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", last).replace("_", " ").replace(".", " ").split()
    return " ".join(words).capitalize() or name
