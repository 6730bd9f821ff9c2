from rest_framework.parsers import JSONParser

__all__ = ["PlainTextJSONParser"]


class PlainTextJSONParser(JSONParser):
    """ThingsBoard's generated client sends telemetry and attribute JSON as text/plain."""

    media_type = "text/plain"
