"""The admin look (django-unfold): sidebar sections, each item shown to who may open its model."""

from tbproject.ui.navigation import UNFOLD  # noqa: F401  (plain data and lazy links)
