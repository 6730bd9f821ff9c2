"""Base of the nodes that run a user script (filter, transform, log) on the converters' runtime."""

from typing import ClassVar

from rulechains import scripts
from rulechains.nodes.base import BaseNode, ConfigError

__all__ = ["ScriptNode"]


class ScriptNode(BaseNode):
    """Runs ``jsScript`` (or ``tbelScript`` with ``scriptLang`` TBEL: the body of ThingsBoard's
    Filter/Transform/ToString function) once per batch on the engine; a body that does not
    compile is refused when the chain is saved. Subclasses turn each engine Result into Outs in
    :meth:`outs`."""

    savepoint = False

    script_kind: ClassVar[str] = ""

    @classmethod
    def clean_config(cls, configuration: dict) -> dict:
        try:
            scripts.script_of(configuration)
        except scripts.ScriptConfigError as e:
            raise ConfigError(str(e)) from None
        return configuration

    @classmethod
    def check(cls, configuration: dict) -> None:
        try:
            lang, body = scripts.script_of(cls.clean_config(configuration))
        except scripts.ScriptConfigError as e:  # a clean_config of a subclass may let it through
            raise ConfigError(str(e)) from None
        error = scripts.check(cls.script_kind, body, lang)
        if error is not None:
            raise ConfigError(f"the script does not compile: {error}")

    def process_batch(self, ctx, msgs):
        lang, body = scripts.script_of(self.config)
        results = scripts.run(self.script_kind, f"rulenode:{self.id}", self.row.version, body, msgs, lang)
        return [self.outs(msg, result) for msg, result in zip(msgs, results, strict=True)]

    def outs(self, msg, result) -> list:
        raise NotImplementedError
