"""Pytest fixtures: two tenants (ours and mallory's), their users, and JWT API clients.

Loaded from the root conftest.py so every app's tests share the same world.
"""

import pytest
from rest_framework.test import APIClient

from tbproject.api.tokens import issue_pair
from tenants.choices import Authority
from tenants.models import Customer, Tenant, User

__all__ = ["api_as"]

PASSWORD = "secret-pass-1"


def api_as(user) -> APIClient:
    """An API client that sends ThingsBoard's X-Authorization header for ``user``."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_X_AUTHORIZATION=f"Bearer {issue_pair(user)['token']}")
    return client


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(title="Alice Corp")


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.create(title="Mallory Ltd")


@pytest.fixture
def customer(tenant):
    return Customer.objects.create(tenant=tenant, title="Customer A")


@pytest.fixture
def sysadmin(db):
    return User.objects.create_user("root@example.com", PASSWORD, authority=Authority.SYS_ADMIN)


@pytest.fixture
def tenant_admin(tenant):
    return User.objects.create_user("alice@example.com", PASSWORD, authority=Authority.TENANT_ADMIN, tenant=tenant)


@pytest.fixture
def customer_user(tenant, customer):
    return User.objects.create_user(
        "carol@example.com", PASSWORD, authority=Authority.CUSTOMER_USER, tenant=tenant, customer=customer
    )


@pytest.fixture
def mallory(other_tenant):
    return User.objects.create_user("mallory@example.com", PASSWORD, authority=Authority.TENANT_ADMIN,
                                    tenant=other_tenant)


@pytest.fixture
def api(tenant_admin) -> APIClient:
    return api_as(tenant_admin)


@pytest.fixture
def mallory_api(mallory) -> APIClient:
    return api_as(mallory)


@pytest.fixture
def customer_api(customer_user) -> APIClient:
    return api_as(customer_user)


@pytest.fixture
def anon(db) -> APIClient:
    """An API client with no credentials."""
    return APIClient()
