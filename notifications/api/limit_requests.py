"""``POST /api/notification/entitiesLimitIncreaseRequest/{entityType}``: a tenant administrator asks the system
administrators for a higher entity count limit (ThingsBoard's sendEntitiesLimitIncreaseRequest, CE's
NotificationController: TENANT_ADMIN only, an empty 200).

As in ThingsBoard the request goes to the system administrator's first "System administrators" target
(usersFilter SYSTEM_ADMINISTRATORS), made here when there is none (ThingsBoard installs one), with the
system administrator's first ENTITIES_LIMIT_INCREASE_REQUEST template, else ThingsBoard's default text. The
template parameters are ThingsBoard's: ``entityType`` (its normal name, "Device"), ``userEmail``,
``increaseLimitActionLabel`` ("Set new limit"), ``increaseLimitLink`` (``/tenants/{tenantId}``), ``baseUrl``.
Delivery is the notification center's (notifications/sending.py): inbox, e-mail, SMS, Slack as the template
enables them. At most one request is sent per tenant and entity type every DEDUP_SECONDS (an hour, in the
shared cache): a repeat within that time still answers 200 and sends nothing, so that a button pressed
again, or a script, cannot flood the system administrators.
"""

from django.core.cache import cache
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import sending
from notifications.models import NotificationTarget, NotificationTemplate
from notifications.shapes import template_json
from tbproject.api.permissions import IsTenantAdmin
from tenants.limits.entities import ENTITY_KEYS, normal_name
from tenants.system.admin_settings import base_url

__all__ = ["EntitiesLimitIncreaseRequest", "default_template", "ENTITY_TYPES"]

KIND = "ENTITIES_LIMIT_INCREASE_REQUEST"
#: what the client's enum offers (no Edge here)
ENTITY_TYPES = tuple(ENTITY_KEYS)
SYSADMINS = {"type": "PLATFORM_USERS", "usersFilter": {"type": "SYSTEM_ADMINISTRATORS"}}
_SUBJECT = "${entityType}s limit increase request"
_BODY = ("${userEmail} has reached the maximum number of ${entityType:lowerCase}s allowed and is requesting an "
         "increase to the ${entityType:lowerCase} limit.")
ACTION_LABEL = "Set new limit"
DEDUP_SECONDS = 3600


def default_template(link: str) -> dict:
    """ThingsBoard's default template of the type: the web inbox, with a button to the tenant (the inbox keeps
    a template's additionalConfig as written, so the button's text and link are filled in here)."""
    return {"id": None, "name": "Entities limit increase request", "notificationType": KIND,
            "configuration": {"deliveryMethodsTemplates": {"WEB": {
                "method": "WEB", "enabled": True, "subject": _SUBJECT, "body": _BODY,
                "additionalConfig": {"icon": {"enabled": True, "icon": "data_usage", "color": "#D12730"},
                                     "actionButtonConfig": {"enabled": True, "text": ACTION_LABEL,
                                                            "linkType": "LINK", "link": link}}}}}}


def _sysadmins_target() -> NotificationTarget:
    found = next((t for t in NotificationTarget.objects.filter(tenant__isnull=True).order_by("created_time")
                  if ((t.configuration or {}).get("usersFilter") or {}).get("type") == "SYSTEM_ADMINISTRATORS"), None)
    if found is None:
        found, _ = NotificationTarget.objects.get_or_create(tenant=None, name="System administrators",
                                                            defaults={"configuration": SYSADMINS})
    return found


class EntitiesLimitIncreaseRequest(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request, limited_type: str):
        entity_type = limited_type
        if entity_type not in ENTITY_TYPES:
            raise ValidationError(f"Invalid value '{entity_type[:64]}' of parameter 'entityType': one of "
                                  f"{', '.join(ENTITY_TYPES)}")
        user = request.user
        sent_key = f"notifications:limit-increase-request:{user.tenant_id}:{entity_type}"
        if not cache.add(sent_key, 1, DEDUP_SECONDS):
            return Response(status=200)  # one was sent within the hour
        try:
            self._send(user, entity_type)
        except BaseException:
            cache.delete(sent_key)  # nothing went out: the next request may try again
            raise
        return Response(status=200)

    @staticmethod
    def _send(user, entity_type: str) -> None:
        template = NotificationTemplate.objects.filter(tenant__isnull=True, notification_type=KIND) \
            .order_by("created_time").first()
        link = f"/tenants/{user.tenant_id}"
        body = template_json(template) if template is not None else default_template(link)
        params = {"entityType": normal_name(entity_type), "userEmail": user.email,
                  "increaseLimitActionLabel": ACTION_LABEL, "increaseLimitLink": link, "baseUrl": base_url()}
        info = {"type": KIND, **params, "entityType": entity_type}
        sending.submit(None, [_sysadmins_target()], body, template_ref=template, info=info, sender=user,
                       originator=("USER", user.pk), context={"params": params})
