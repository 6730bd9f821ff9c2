"""Example CUSTOM integrations (integrations/custom.py): allowed by CUSTOM_INTEGRATION_CLASSES' default."""
