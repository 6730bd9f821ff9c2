from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "branding"
    verbose_name = "White labeling, custom menus and translations"

    def ready(self):
        from branding import receivers  # noqa: F401  (custom menu assignees go with their entities)
