"""A customer user moved to another customer (``POST /api/user`` with another ``customerId``) leaves the old
customer's user groups, and with them whatever was shared with those, and joins the new customer's "All" and
"Customer Users" (roles/customer_defaults.py). The customer a user was loaded with is kept at ``post_init``
(no query); ``post_save`` compares."""

from devices.models import EntityGroup
from roles import customer_defaults, rights
from tenants.choices import Authority

__all__ = ["on_user_loaded", "on_user_saved"]

_LOADED = "_tb_loaded_customer_id"


def on_user_loaded(sender, instance, **kwargs):
    setattr(instance, _LOADED, instance.__dict__.get("customer_id"))


def on_user_saved(sender, instance, created, raw=False, **kwargs):
    old, new = getattr(instance, _LOADED, None), instance.customer_id
    setattr(instance, _LOADED, new)
    if created or raw or old is None or old == new or instance.authority != Authority.CUSTOMER_USER:
        return
    instance.entity_groups.remove(*instance.entity_groups.filter(type="USER", customer_id=old))
    customer_defaults.join_customer_defaults(instance, EntityGroup)
    rights.forget()
