"""The API's exception handler answers an AccountError (tenants/accounts.py) raised in any view with
ThingsBoard's error JSON and the status it carries; views no longer catch it themselves."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tbproject.api.exceptions import ErrorCode
from tenants.accounts import AccountError


class _Refusing(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    error = None

    def get(self, request):
        raise self.error


@pytest.mark.parametrize("status, code", [(400, ErrorCode.BAD_REQUEST_PARAMS), (403, ErrorCode.PERMISSION_DENIED),
                                          (404, ErrorCode.ITEM_NOT_FOUND), (409, ErrorCode.VERSION_CONFLICT),
                                          (500, ErrorCode.GENERAL)])
def test_it_answers_an_account_error_with_its_status(status, code):
    view = _Refusing.as_view(error=AccountError("refused for a reason", status))
    res = view(APIRequestFactory().get("/api/x"))
    assert res.status_code == status
    assert (res.data["status"], res.data["message"], res.data["errorCode"]) == (status, "refused for a reason", code)


def test_a_429_says_when_to_come_back():
    view = _Refusing.as_view(error=AccountError("Too many mails asked for", 429, retry_after=17))
    res = view(APIRequestFactory().get("/api/x"))
    assert (res.status_code, res.data["errorCode"], res["Retry-After"]) == (429, ErrorCode.TOO_MANY_REQUESTS, "17")
