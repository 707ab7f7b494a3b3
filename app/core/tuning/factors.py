"""The knobs a sweep may turn, each read from and applied to ``AttemptSettings``."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings

COMPLETENESS_DIRECTIVE = (
    "Before you give your final answer, check the task statement item by item and make "
    "sure every requested change is done; if anything is missing, do it first."
)
DIRECTIVE_PRESETS: dict[str, str | None] = {"none": None, "completeness": COMPLETENESS_DIRECTIVE}

FactorValue = float | int | bool | str | None


class Factor(StrEnum):
    """One dimension of an OFAT sweep."""

    TEMPERATURE = "temperature"
    CONTEXT = "num_ctx"
    THINKING = "think"
    TOOL_MODE = "tool_mode"
    DIRECTIVE = "directive"
    TURN_BUDGET = "turns"
    TOKEN_BUDGET = "tokens"

    @property
    def caption(self) -> str:
        return _TITLES[self]

    @property
    def hint(self) -> str:
        """What values look like, for builders and error messages."""
        return _HINTS[self]

    def read(self, settings: AttemptSettings) -> FactorValue:
        generation = settings.generation
        match self:
            case Factor.TEMPERATURE:
                return generation.temperature
            case Factor.CONTEXT:
                return generation.num_ctx
            case Factor.THINKING:
                return generation.think
            case Factor.TOOL_MODE:
                return settings.tool_mode.value
            case Factor.DIRECTIVE:
                return settings.directive
            case Factor.TURN_BUDGET:
                return settings.turn_scale
            case Factor.TOKEN_BUDGET:
                return settings.token_scale

    def apply(self, settings: AttemptSettings, value: FactorValue) -> AttemptSettings:
        generation = settings.generation
        match self:
            case Factor.TEMPERATURE:
                return replace(settings, generation=replace(generation, temperature=_float(value)))
            case Factor.CONTEXT:
                return replace(settings, generation=replace(generation, num_ctx=_int(value)))
            case Factor.THINKING:
                return replace(settings, generation=replace(generation, think=_bool(value)))
            case Factor.TOOL_MODE:
                return replace(settings, tool_mode=ToolMode(str(value)))
            case Factor.DIRECTIVE:
                return replace(settings, directive=None if value is None else str(value))
            case Factor.TURN_BUDGET:
                return replace(settings, turn_scale=float(_float(value) or 1.0))
            case Factor.TOKEN_BUDGET:
                return replace(settings, token_scale=float(_float(value) or 1.0))

    def parse(self, text: str) -> FactorValue:
        """A value as a user types it: ``0.7``, ``8192``, ``on``, ``native``, ``×2``, ``completeness``."""
        raw = text.strip()
        lowered = raw.lower()
        try:
            match self:
                case Factor.TEMPERATURE:
                    value = float(raw)
                    if not 0 <= value <= 2:
                        raise ValueError
                    return value
                case Factor.CONTEXT:
                    size = int(lowered.removesuffix("k")) * (1024 if lowered.endswith("k") else 1)
                    if size < 256:
                        raise ValueError
                    return size
                case Factor.THINKING:
                    if lowered in ("default", "server"):
                        return None
                    return _bool(lowered)
                case Factor.TOOL_MODE:
                    return ToolMode(lowered).value
                case Factor.DIRECTIVE:
                    return DIRECTIVE_PRESETS.get(lowered, raw)
                case Factor.TURN_BUDGET | Factor.TOKEN_BUDGET:
                    scale = float(lowered.lstrip("×x").rstrip("×x"))
                    if not 0.1 <= scale <= 32:
                        raise ValueError
                    return scale
        except (ValueError, KeyError):
            pass
        raise ValueError(f"{self.caption}: {raw!r} is not a valid value ({self.hint})")

    def render(self, value: FactorValue) -> str:
        """A short label for a value, as charts and tables show it."""
        match self:
            case Factor.THINKING:
                return "server default" if value is None else ("on" if value else "off")
            case Factor.DIRECTIVE:
                if value is None:
                    return "none"
                named = [name for name, text in DIRECTIVE_PRESETS.items() if text == value]
                return named[0] if named else _shorten(str(value))
            case Factor.TURN_BUDGET | Factor.TOKEN_BUDGET:
                return f"×{float(value or 1):g}"
            case Factor.CONTEXT:
                return "server default" if value is None else f"{value}"
            case _:
                return "server default" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    def cell_label(self, value: FactorValue) -> str:
        return f"{self.caption} {self.render(value)}"


_TITLES = {
    Factor.TEMPERATURE: "temperature",
    Factor.CONTEXT: "context",
    Factor.THINKING: "thinking",
    Factor.TOOL_MODE: "tool calls",
    Factor.DIRECTIVE: "directive",
    Factor.TURN_BUDGET: "turns",
    Factor.TOKEN_BUDGET: "tokens",
}
_HINTS = {
    Factor.TEMPERATURE: "a number from 0 to 2",
    Factor.CONTEXT: "a context size in tokens, e.g. 8192 or 16k",
    Factor.THINKING: "on, off or default",
    Factor.TOOL_MODE: "native, recovery or prompted",
    Factor.DIRECTIVE: "none, completeness, or the text to add to the system prompt",
    Factor.TURN_BUDGET: "a multiple of the task's turn budget, e.g. ×2",
    Factor.TOKEN_BUDGET: "a multiple of the task's token budget, e.g. ×2",
}


def differing_factors(baseline: AttemptSettings, other: AttemptSettings) -> list[Factor]:
    """The factors in which ``other`` departs from ``baseline`` (labels ignored)."""
    return [f for f in Factor if f.read(baseline) != f.read(other)]


def _float(value: FactorValue) -> float | None:
    return None if value is None else float(value)


def _int(value: FactorValue) -> int | None:
    return None if value is None else int(value)


def _bool(value: FactorValue) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    raise ValueError(f"not on/off: {value!r}")


def _shorten(text: str, width: int = 24) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
