"""ThingsBoard's CSV bulk import of edges (``POST /api/edge/bulk_import``, BulkImportRequest).

``file`` is the CSV text, ``mapping`` {columns: [{type, key}], delimiter, update, header}: one column per
BulkImportColumnType (NAME, TYPE, LABEL, DESCRIPTION, ROUTING_KEY, SECRET, EDGE_LICENSE_KEY,
CLOUD_ENDPOINT, SERVER_ATTRIBUTE/SHARED_ATTRIBUTE with their ``key``). A row names an edge by NAME: an
existing one is updated when ``update`` is true (else the row is an error), a new one is created (with
the edge template root and auto-assign chains). Each row is saved on its own (its own transaction: a row
failing half-way leaves nothing); a bad row (a bad field, an attribute value no column holds such as a
NUL or a 400-digit number, a key over 255 characters) is counted in ``errors`` with "Line N: message" in
``errorsList`` and the others go on. Other column types (TIMESERIES,
device credentials) are not edge fields: refused up front.
"""

import csv
import io

from django.db import DatabaseError, OperationalError, transaction
from rest_framework.exceptions import APIException, ValidationError

from devices.attributes import save_attributes
from edges import services
from edges.api.serializers import EdgeSerializer
from edges.models import Edge

__all__ = ["bulk_import", "MAX_ROWS"]

MAX_ROWS = 10_000
MAX_KEY = 255  # an attribute key's longest (ThingsBoard's key dictionary column)
FIELDS = {"NAME": "name", "TYPE": "type", "LABEL": "label", "ROUTING_KEY": "routingKey", "SECRET": "secret",
          "EDGE_LICENSE_KEY": "edgeLicenseKey", "CLOUD_ENDPOINT": "cloudEndpoint"}
ATTRIBUTES = {"SERVER_ATTRIBUTE": "SERVER_SCOPE", "SHARED_ATTRIBUTE": "SHARED_SCOPE"}


def _columns(mapping) -> list[tuple[str, str]]:
    columns = mapping.get("columns") if isinstance(mapping, dict) else None
    if not isinstance(columns, list) or not columns or not all(isinstance(c, dict) for c in columns):
        raise ValidationError("'mapping.columns' must be a non-empty list of {type, key}")
    out = []
    for column in columns:
        kind, key = column.get("type"), column.get("key")
        if kind not in FIELDS and kind != "DESCRIPTION" and kind not in ATTRIBUTES:
            raise ValidationError(f"Unsupported column type for edges: {kind!s:.32}")
        if kind in ATTRIBUTES and (not isinstance(key, str) or not key.strip()):
            raise ValidationError(f"A {kind} column needs a 'key'")
        out.append((kind, key))
    if "NAME" not in [k for k, _ in out]:
        raise ValidationError("The mapping needs a NAME column")
    return out


def _typed(text: str):
    """An attribute value as ThingsBoard's import reads it: boolean, integer, number, else text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _rows(request_data) -> tuple[list, list, bool]:
    if not isinstance(request_data, dict) or not isinstance(request_data.get("file"), str):
        raise ValidationError("The request must be a JSON object with the CSV text in 'file'")
    mapping = request_data.get("mapping")
    columns = _columns(mapping)
    delimiter = mapping.get("delimiter") or ","
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValidationError("'mapping.delimiter' must be one character")
    try:
        lines = list(csv.reader(io.StringIO(request_data["file"]), delimiter=delimiter))
    except csv.Error as e:
        raise ValidationError(f"The CSV cannot be read: {e}") from None
    start = 1 if mapping.get("header", True) else 0
    rows = [(n + 1, line) for n, line in enumerate(lines) if n >= start and any(cell.strip() for cell in line)]
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS} rows may be imported at once")
    return columns, rows, bool(mapping.get("update", False))


def bulk_import(view, request_data) -> dict:
    """The BulkImportResult of importing ``request_data`` as the view's user."""
    columns, rows, update = _rows(request_data)
    tenant = view.request.user.tenant
    created = updated = 0
    errors = []
    for number, line in rows:
        if len(line) != len(columns):
            errors.append(f"Line {number}: {len(line)} values for {len(columns)} columns")
            continue
        data, attributes = {}, {}
        for (kind, key), value in zip(columns, line, strict=True):
            value = value.strip()
            if kind in FIELDS:
                data[FIELDS[kind]] = value
            elif kind == "DESCRIPTION":
                data["additionalInfo"] = {"description": value}
            elif value:
                attributes.setdefault(ATTRIBUTES[kind], {})[key.strip()] = _typed(value)
        long_key = next((k for values in attributes.values() for k in values if len(k) > MAX_KEY), None)
        if long_key is not None:
            errors.append(f"Line {number}: attribute key '{long_key:.32}...' is longer than {MAX_KEY} characters")
            continue
        existing = Edge.objects.filter(tenant=tenant, name=data.get("name")).first()
        if existing is not None and not update:
            errors.append(f"Line {number}: Edge with such name already exists!")
            continue
        serializer = EdgeSerializer(existing, data=data, partial=existing is not None,
                                    context={"request": view.request})
        try:
            with transaction.atomic():
                serializer.is_valid(raise_exception=True)
                edge = serializer.save()
                if existing is None:
                    services.set_up_new_edge(edge)
                for scope, values in attributes.items():
                    save_attributes(edge.pk, scope, values, tenant_id=tenant.pk)
        except OperationalError:
            raise  # the database is down: not this row's fault
        except (APIException, DatabaseError, ValueError) as e:  # a NUL, a number no column holds...
            errors.append(f"Line {number}: {_message(e)}")
            continue
        if existing is None:
            created += 1
        else:
            updated += 1
    return {"created": created, "updated": updated, "errors": len(errors), "errorsList": errors}


def _message(error) -> str:
    detail = getattr(error, "detail", None)
    if isinstance(detail, dict):
        return "; ".join(str(v[0] if isinstance(v, list) and v else v) for v in detail.values())
    if isinstance(detail, list) and detail:
        return str(detail[0])
    return str(detail or error)[:200]
