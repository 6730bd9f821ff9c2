"""CUSTOM integration: a Python class of your own (integrations/custom.py), run as a listener.

Configuration keys are ThingsBoard's: ``clazz`` names the class (here a dotted Python path
instead of a Java class name) and ``configuration`` is the class's own settings, a JSON string as
ThingsBoard stores it (an object is accepted too). A class is loaded only when its dotted path
starts with one of CUSTOM_INTEGRATION_CLASSES (server) or the remote runner's ``--allow-custom``
prefixes: a tenant administrator must not make a host import arbitrary code. ThingsBoard runs
CUSTOM remotely only; here runintegrations may host it as well, under the same allow list.
"""

import json
import re

from pydantic import Field, field_validator

from integrations.listeners.batching import UplinkBatcher
from integrations.messages import Downlink
from integrations.types.base import IntegrationError, ListenerIntegration, TypeConfig, UplinkSink
from tbproject.conf import setting
from tbproject.registry import load_dotted

__all__ = ["CustomConfig", "CustomIntegration", "load_class"]

DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
STOP_TIMEOUT = 5.0


class CustomConfig(TypeConfig):
    clazz: str
    configuration: str | dict = Field("", validate_default=True)

    @field_validator("clazz")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not DOTTED.match(value):
            raise ValueError(f"'{value}' is not a dotted Python path (package.module.Class)")
        return value

    @field_validator("configuration")
    @classmethod
    def _json_object(cls, value):
        if isinstance(value, dict):
            return value
        if not value.strip():
            return {}
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object")
        return parsed


def load_class(path: str):
    """The custom integration class at ``path``, if allowed here; IntegrationError (permanent) if not."""
    from integrations.custom import CustomIntegrationBase

    allowed = [p for p in setting("CUSTOM_INTEGRATION_CLASSES", None) or [] if p]
    if not any(path == prefix or path.startswith(prefix) for prefix in allowed):
        raise IntegrationError(f"custom integration class '{path}' is not allowed on this host (allowed prefixes: "
                               f"{', '.join(allowed) or 'none'}; CUSTOM_INTEGRATION_CLASSES)", permanent=True)
    try:
        cls = load_dotted(path)
    except ImportError as exc:
        raise IntegrationError(f"cannot load custom integration class '{path}': {exc}", permanent=True) from None
    if not (isinstance(cls, type) and issubclass(cls, CustomIntegrationBase)):
        raise IntegrationError(f"'{path}' is not a subclass of integrations.custom.CustomIntegrationBase",
                               permanent=True)
    return cls


class CustomIntegration(ListenerIntegration):
    """Hosts the configured class: its ``publish`` goes through an UplinkBatcher to the sink."""

    kind, label = "CUSTOM", "Custom"
    config_model = CustomConfig

    _instance = None
    _batcher = None

    async def start(self, emit: UplinkSink) -> None:
        cls = load_class(self.config.clazz)
        self._batcher = UplinkBatcher(emit, on_error=lambda error: emit.report(error=error, method="queue"))
        self._batcher.start()
        self._instance = cls(self.config.configuration, name=self.integration.name,
                             integration_id=str(self.integration.pk), metadata=self.metadata, batcher=self._batcher)
        try:
            await self._instance.start()
        except Exception:
            await self.stop()
            raise
        emit.report(connected=True, error="")

    async def stop(self) -> None:
        instance, self._instance = self._instance, None
        try:
            if instance is not None:
                await instance.stop()
        finally:
            if self._batcher is not None:
                await self._batcher.close(STOP_TIMEOUT)

    async def downlink(self, downlink: Downlink) -> None:
        if self._instance is None:
            raise IntegrationError(f"custom integration '{self.integration.name}' is not running")
        await self._instance.on_downlink(downlink)
