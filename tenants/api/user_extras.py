"""Two of UserController's reads and writes of the current user:

    GET    /api/user/customers?pageSize&page&textSearch&sortProperty&sortOrder   PageData of Customer: the
           customers the user may see (a tenant administrator: its tenant's; a customer user: its own)
    GET    /api/user/mobile/session       X-Mobile-Token header -> MobileSessionInfo {fcmTokenTimestamp}
                                          (an empty 200, as Spring answers null, when none is kept)
    POST   /api/user/mobile/session       X-Mobile-Token + MobileSessionInfo: kept for the user
                                          (tenants/mobile_sessions.py)
    DELETE /api/user/mobile/session       X-Mobile-Token: forgotten

The mobile session routes are every signed-in user's own (the system administrator's too).
"""

from django.http import HttpResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import account_refusal
from tbproject.api.permissions import IsTenantUser
from tbproject.api.resources import ListView, as_view
from tenants import mobile_sessions
from tenants.accounts import AccountError
from tenants.api.customers import CustomerResource

__all__ = ["user_customers_view", "MobileSessionView"]

#: `GET /api/user/customers`: the customer family's visibility and paging
user_customers_view = as_view(CustomerResource, ListView, permission_classes=[IsTenantUser])

_HEADER = "X-Mobile-Token"


class MobileSessionView(APIView):
    permission_classes = [IsAuthenticated]

    def _run(self, call, *args):
        try:
            return call(self.request.user, self.request.headers.get(_HEADER), *args)
        except AccountError as e:
            raise account_refusal(e) from None

    def get(self, request):
        found = self._run(mobile_sessions.find)
        return HttpResponse(status=200, content_type="application/json") if found is None else Response(found)

    def post(self, request):
        self._run(mobile_sessions.save, request.data)
        return HttpResponse(status=200)

    def delete(self, request):
        self._run(mobile_sessions.remove)
        return HttpResponse(status=200)
