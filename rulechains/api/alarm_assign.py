"""Alarm assignment at ThingsBoard's paths (tenant admins, and customer users for their customer's
alarms):

    POST   /api/alarm/{alarmId}/assign/{assigneeId}   assign or reassign; the alarm (AlarmInfo)
    DELETE /api/alarm/{alarmId}/assign                unassign; the alarm (AlarmInfo)
    GET    /api/users/assign/{alarmId}?pageSize&page&textSearch&sortProperty&sortOrder
                                                      PageData of UserEmailInfo: who may be assigned

As ThingsBoard checks it, the caller may assign any user it may read: a tenant administrator any
user of its tenant, a customer user the users of its own customer. Any other id (another
tenant's user, another customer's for a customer user, unknown) is a 404 "User with id [..] is
not found", the same for all, so the answer tells nothing of who exists. The users/assign list
offers ThingsBoard's list of users for assignment: the tenant's administrators and the users of
the alarm's customer (an alarm no customer owns: administrators only); a customer user's, its own
customer's users only, also for an alarm it reads through a shared group (another customer's device: that
customer's users stay unseen, and assigning one is the 404 above). Another tenant's alarm is a 404.
Each change sets ``assignTs`` and sends ALARM_ASSIGNED / ALARM_UNASSIGNED to the rule engine, the acting
user in its metadata; assigning the current assignee again, or unassigning an unassigned alarm, changes
nothing.
"""

from dataclasses import replace

from django.db.models import Q
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from rulechains import alarms
from rulechains.api.alarms import _AlarmResource
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.clock import now_ms
from tenants.accounts import visible_users
from tenants.choices import Authority
from tenants.models import User

__all__ = ["AssignView", "UnassignView", "UsersForAssignView"]

USER_SORT_FIELDS = {"createdTime": "created_time", "email": "email", "firstName": "first_name",
                    "lastName": "last_name"}


def assignable(actor, alarm):
    """The users ``actor`` may make the alarm's assignee: a customer user's, its own customer's users, whoever
    owns the alarm (an alarm it reads through a shared group may be another customer's, whose users it never
    sees); else the tenant's administrators and the alarm's customer's users."""
    users = User.objects.filter(tenant_id=alarm.tenant_id)
    if actor.authority == Authority.CUSTOMER_USER:
        return users.filter(authority=Authority.CUSTOMER_USER, customer_id=actor.customer_id)
    of_customer = Q(authority=Authority.CUSTOMER_USER, customer_id=alarm.customer_id) if alarm.customer_id \
        else Q(pk__in=[])
    return users.filter(Q(authority=Authority.TENANT_ADMIN) | of_customer)


class AssignView(_AlarmResource):
    def post(self, request, pk, user_id):
        alarm = self.alarm(pk)
        user_id = parse_uuid(user_id)
        user = visible_users(request.user).filter(pk=user_id).first()
        if user is None:  # unknown, another tenant's, or (for a customer user) another customer's: all alike
            raise NotFound(f"User with id [{user_id}] is not found")
        if alarms.assign(alarm, user, now_ms()):
            alarms.announce(alarm, "ALARM_ASSIGNED", request.user)
        return Response(self.info(alarm))


class UnassignView(_AlarmResource):
    def delete(self, request, pk):
        alarm = self.alarm(pk)
        if alarms.unassign(alarm, now_ms()):
            alarms.announce(alarm, "ALARM_UNASSIGNED", request.user)
        return Response(self.info(alarm))


def _user_infos(rows) -> list[dict]:
    return [{"id": entity_id("USER", u.pk), "email": u.email, "firstName": u.first_name or None,
             "lastName": u.last_name or None} for u in rows]


class UsersForAssignView(_AlarmResource):
    def get(self, request, pk):
        users = assignable(request.user, self.alarm(pk))
        req = page_request(request.query_params)
        if req.text_search:
            text = req.text_search
            users = users.filter(Q(email__icontains=text) | Q(first_name__icontains=text)
                                 | Q(last_name__icontains=text))
        if not req.sort_property:
            users = users.order_by("email", "pk")
        return Response(page_data(users, replace(req, text_search=""), search_field="email",
                                  sort_fields=USER_SORT_FIELDS, render=_user_infos))
