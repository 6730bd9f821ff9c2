from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Roles and permissions"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

        from devices import group_types
        from devices.api import group_extras, lean_batch
        from devices.models import EntityGroup
        from roles import enforcement, group_access, moved_users, protection, rights, user_groups
        from roles.api.views import entity_group_permissions
        from roles.models import GroupPermission, Role
        from tbproject.api import role_hook
        from tenants import shared_rows
        from tenants.api.accounts import user_saved
        from tenants.models import Customer, Tenant, User

        # devices/ and tbproject/ may not import roles/: tell them what user groups hold, what a group's
        # permissions are, and how a request is checked against the caller's roles
        group_types.register("USER", "users", name_field="email")
        group_extras.register_group_permissions(entity_group_permissions)
        role_hook.register(enforcement.check, require=enforcement.allows, guard=protection.guard)
        shared_rows.register(group_access.shared_pks)

        post_save.connect(user_groups.on_tenant_saved, sender=Tenant, dispatch_uid="roles.tenant_defaults")
        post_save.connect(user_groups.on_customer_saved, sender=Customer, dispatch_uid="roles.customer_defaults")
        post_save.connect(user_groups.on_user_saved, sender=User, dispatch_uid="roles.user_defaults")
        post_init.connect(moved_users.on_user_loaded, sender=User, dispatch_uid="roles.user_loaded")
        post_save.connect(moved_users.on_user_saved, sender=User, dispatch_uid="roles.user_moved")
        user_saved.connect(user_groups.on_user_saved_by_api, dispatch_uid="roles.user_groups_named")
        for model in (Role, GroupPermission, EntityGroup):
            post_save.connect(rights.forget, sender=model, dispatch_uid=f"roles.forget.save.{model.__name__}")
            post_delete.connect(rights.forget, sender=model, dispatch_uid=f"roles.forget.delete.{model.__name__}")
        m2m_changed.connect(rights.forget, sender=EntityGroup.users.through, dispatch_uid="roles.forget.members")
        # the lean saves keep the entities a user found (2 s): a share taken back applies at once there too
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(lean_batch.forget_entities, sender=GroupPermission, dispatch_uid=f"roles.lean.{name}")
        m2m_changed.connect(lean_batch.forget_entities, sender=EntityGroup.users.through,
                            dispatch_uid="roles.lean.members")
