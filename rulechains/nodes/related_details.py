"""Details of the originator's customer or of the tenant (ThingsBoard's "customer details" and
"tenant details"), and the device's credentials ("fetch device credentials").

Details go under ThingsBoard's keys, ``customer_<name>`` / ``tenant_<name>`` (``customer_title``,
``tenant_zip``, ``customer_additionalInfo`` from the additional info's ``description``), into the
data (the default) or the metadata (``fetchTo``; ``addToMetadata`` before ThingsBoard 3.6). A
detail the entity does not have is skipped, as ThingsBoard skips a null field: here an empty field
(the API stores a null one as "") and the tenant's country, city, state, zip, address, address2
and phone, which this project's tenants do not have.
"""

import json

from devices.models import DeviceCredentials
from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, fail, field, normal_name
from rulechains.nodes.enrichment import FETCH_TO
from rulechains.nodes.related import NOT_AN_OBJECT, check_body, fetch_to, load_entities, put
from tenants.models import Tenant

__all__ = ["CustomerDetailsNode", "TenantDetailsNode", "DeviceCredentialsNode", "DETAILS"]

#: ThingsBoard's ContactBasedEntityDetails, in its order
DETAILS = ("ID", "TITLE", "COUNTRY", "CITY", "STATE", "ZIP", "ADDRESS", "ADDRESS2", "PHONE", "EMAIL",
           "ADDITIONAL_INFO")
_KEYS = {"ADDITIONAL_INFO": "additionalInfo"}


def _detail(entity, detail: str):
    """The detail as text, or None when the entity does not have it (skipped)."""
    if detail == "ID":
        return str(entity.pk)
    if detail == "ADDITIONAL_INFO":
        info = entity.additional_info if isinstance(entity.additional_info, dict) else {}
        value = info.get("description")
        if value is None:
            return None
        return ("true" if value else "false") if isinstance(value, bool) else value if isinstance(value, str) else (
            str(value) if isinstance(value, (int, float)) else "")
    value = getattr(entity, detail.lower(), None)
    return value if isinstance(value, str) and value else None


class _DetailsNode(BaseNode):
    """Adds the ``detailsList`` details of the entity :meth:`entities` finds. An empty list passes
    messages on unchanged (ThingsBoard 3.6 refuses it at start; before, it passed them on)."""

    group = "ENRICHMENT"
    prefix = ""
    defaults = {"detailsList": [], "fetchTo": "DATA"}
    fields = (field("detailsList", "list", "Details (ID, TITLE, COUNTRY, CITY, STATE, ZIP, ADDRESS, ADDRESS2, "
                                           "PHONE, EMAIL, ADDITIONAL_INFO)"),
              field("fetchTo", "select", "Add to", choices=FETCH_TO))

    @classmethod
    def clean_config(cls, configuration):
        details = configuration.get("detailsList")
        details = [] if details is None else details
        if not isinstance(details, list) or not all(isinstance(d, str) and d in DETAILS for d in details):
            raise ConfigError(f"detailsList must be a list of {', '.join(DETAILS)}")
        return {"detailsList": details, "fetchTo": fetch_to(configuration, "DATA", "addToMetadata")}

    def entities(self, ctx, msgs) -> list:
        """Per message, the Customer/Tenant row, None (the message passes on unchanged) or a failure text."""
        raise NotImplementedError

    def process_batch(self, ctx, msgs):
        entities = self.entities(ctx, msgs) if self.config["detailsList"] else [None] * len(msgs)
        return [self._one(msg, entity) for msg, entity in zip(msgs, entities, strict=True)]

    def _one(self, msg, entity) -> list[Out]:
        try:
            check_body(msg, self.config["fetchTo"])
        except NodeError as e:
            return fail(msg, e)
        if isinstance(entity, str):
            return fail(msg, entity)
        if entity is None:
            return [Out(SUCCESS, msg)]
        values = {}
        for detail in self.config["detailsList"]:
            value = _detail(entity, detail)
            if value is not None:
                values[self.prefix + _KEYS.get(detail, detail.lower())] = value
        return [Out(SUCCESS, put(msg, values, self.config["fetchTo"]))]


class CustomerDetailsNode(_DetailsNode):
    """ThingsBoard's "customer details": the customer of a device, asset or user originator
    (entity views and edges do not exist here: such a message passes on unchanged, as one whose
    originator is not found). Failure "<Type> with name '<name>' is not assigned to Customer!" and
    "Entity with entityType '<TYPE>' is not supported." for other originator types."""

    label = "customer details"
    prefix = "customer_"

    def entities(self, ctx, msgs):
        holders = ("DEVICE", "ASSET", "USER")
        rows = load_entities(ctx.tenant_id, {(m.originator_type, m.originator_id) for m in msgs
                                             if m.originator_type in holders})
        customers = load_entities(ctx.tenant_id, {("CUSTOMER", row.customer_id) for row in rows.values()})
        found = []
        for msg in msgs:
            row = rows.get((msg.originator_type, msg.originator_id))
            if msg.originator_type not in (*holders, "ENTITY_VIEW", "EDGE"):
                found.append(f"Entity with entityType '{msg.originator_type}' is not supported.")
            elif row is not None and row.customer_id is None:
                name = row.email if msg.originator_type == "USER" else row.name
                found.append(f"{normal_name(msg.originator_type)} with name '{name}' is not assigned to Customer!")
            else:
                found.append(None if row is None else customers.get(("CUSTOMER", row.customer_id)))
        return found


class TenantDetailsNode(_DetailsNode):
    """ThingsBoard's "tenant details": the tenant the rule chain runs for (title, email, id and
    additional info; the other details are not kept for tenants here and are skipped)."""

    label = "tenant details"
    prefix = "tenant_"

    def entities(self, ctx, msgs):
        tenant = Tenant.objects.filter(pk=ctx.tenant_id).first()
        return [tenant] * len(msgs)


class DeviceCredentialsNode(BaseNode):
    """ThingsBoard's "fetch device credentials": ``credentialsType`` and ``credentials`` of the
    originator device into the metadata (the default) or the data (``fetchTo``; ``fetchToMetadata``
    before ThingsBoard 3.6). ``credentials`` is the access token, the X.509 certificate's text, or
    the MQTT basic / LwM2M credentials: a JSON object in the data, its JSON text in the metadata.
    Failure "Unsupported originator type: <TYPE>!" for other originators and "Failed to get Device
    Credentials for device: <id>!" for a device that has none (or is not the tenant's). One query
    per batch."""

    label = "fetch device credentials"
    group = "ENRICHMENT"
    defaults = {"fetchTo": "METADATA"}
    fields = (field("fetchTo", "select", "Add to", choices=FETCH_TO),)

    @classmethod
    def clean_config(cls, configuration):
        return {"fetchTo": fetch_to(configuration, "METADATA", "fetchToMetadata")}

    def process_batch(self, ctx, msgs):
        ids = {m.originator_id for m in msgs if m.originator_type == "DEVICE"}
        rows = DeviceCredentials.objects.filter(tenant_id=ctx.tenant_id, device_id__in=ids) if ids else []
        found = {str(row.device_id): row for row in rows}
        return [self._one(msg, found) for msg in msgs]

    def _one(self, msg, found: dict) -> list[Out]:
        fetch = self.config["fetchTo"]
        if fetch == "DATA" and not isinstance(msg.data, dict):
            return fail(msg, NOT_AN_OBJECT)
        if msg.originator_type != "DEVICE":
            return fail(msg, f"Unsupported originator type: {msg.originator_type}!")
        row = found.get(str(msg.originator_id))
        if row is None:
            return fail(msg, f"Failed to get Device Credentials for device: {msg.originator_id}!")
        info = _credentials_info(row)
        if fetch == "METADATA" and not isinstance(info, str):
            info = json.dumps(info, separators=(",", ":"))
        return [Out(SUCCESS, put(msg, {"credentialsType": row.credentials_type, "credentials": info}, fetch))]


def _credentials_info(row):
    """ThingsBoard's toCredentialsInfo: the token, the certificate, or the parsed JSON value."""
    if row.credentials_type == "ACCESS_TOKEN":
        return row.credentials_id
    if row.credentials_type == "X509_CERTIFICATE":
        return row.credentials_value
    try:
        return json.loads(row.credentials_value or "null")
    except ValueError:
        return row.credentials_value
