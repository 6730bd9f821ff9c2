"""White labeling, custom menus and translations (ThingsBoard PE)."""
