"""Custom menu assignees go with the customer, user or user group they name (CustomMenuAssignee keeps a bare
id, so that it may name rows of several models)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from branding.models import CustomMenuAssignee
from devices.models import EntityGroup
from tenants.models import Customer, User

__all__ = ["drop_assignee"]


@receiver(post_delete, sender=Customer, dispatch_uid="branding-menu-assignee-customer")
@receiver(post_delete, sender=User, dispatch_uid="branding-menu-assignee-user")
@receiver(post_delete, sender=EntityGroup, dispatch_uid="branding-menu-assignee-group")
def drop_assignee(sender, instance, **kwargs):
    CustomMenuAssignee.objects.filter(entity_id=instance.pk).delete()
