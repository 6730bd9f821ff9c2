"""ThingsBoard's own generated client (tb-pe-client) managing users on the real server: a customer
user created without the activation mail, its activation link, activation, a password change, a
disabled login, deletion (as a ThingsBoard provisioning script does it).

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import ActivateUserRequest, ChangePasswordRequest, Customer, User

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _status(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value.status, json.loads(caught.value.body)["message"]


def test_a_script_creates_activates_and_retires_a_customer_user(client, server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    customer = client.save_customer(Customer(title="Accounts Customer"))
    saved = client.save_user(User(email="Eve@Client.test", authority="CUSTOMER_USER", first_name="Eve",
                                  customer_id=customer.id), send_activation_mail="false")
    assert (saved.email, saved.customer_id.id, saved.first_name) == ("eve@client.test", customer.id.id, "Eve")
    user_id = str(saved.id.id)

    link = client.get_activation_link(user_id)
    assert link.startswith(f"{server_url}/api/noauth/activate?activateToken=")
    pair = client.activate_user(ActivateUserRequest(activate_token=link.rsplit("=", 1)[1], password="eve-pass-1"))
    assert pair.token and pair.refresh_token
    assert _status(client.get_activation_link, user_id) == (400, "User is already activated!")

    with ThingsboardClient(server_url, "eve@client.test", "eve-pass-1", retry_on_rate_limit=False) as eve:
        assert eve.get_user().email == "eve@client.test"
        new_pair = eve.change_password(ChangePasswordRequest(current_password="eve-pass-1", new_password="eve-pass-2"))
        assert new_pair.token
    with ThingsboardClient(server_url, "eve@client.test", "eve-pass-2", retry_on_rate_limit=False) as eve:
        assert eve.get_user().first_name == "Eve"

    client.set_user_credentials_enabled(user_id, user_credentials_enabled="false")
    assert client.get_user_by_id(user_id).additional_info["userCredentialsEnabled"] is False
    with pytest.raises(ApiException) as caught:
        ThingsboardClient(server_url, "eve@client.test", "eve-pass-2", retry_on_rate_limit=False).__enter__()
    assert caught.value.status == 401

    client.delete_user(user_id)
    assert _status(client.get_user_by_id, user_id)[0] == 404
