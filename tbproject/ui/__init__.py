"""The browser side of the admin shared by every app: the sidebar navigation. Each app's own admin
pages live beside its admin (integrations/admin_pages/, converters/admin_pages/)."""
