"""Names for the ways attempts were run, so results run differently are never pooled unnamed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.core.plan import AttemptSettings


@dataclass(frozen=True, slots=True)
class SettingDifference:
    """One setting that is not the same in every configuration compared."""

    name: str
    values: tuple[str, ...]


def _budget(value: float | None) -> str:
    return "task's own" if value is None else f"{value:g}"


def _optional(value: object) -> str:
    return "server default" if value is None else str(value)


_FIELDS: list[tuple[str, str, Callable[[AttemptSettings], str]]] = [
    ("tool mode", "", lambda s: s.tool_mode.value),
    ("temperature", "temp ", lambda s: _optional(s.generation.temperature)),
    ("context window", "ctx ", lambda s: _optional(s.generation.num_ctx)),
    ("thinking", "think ", lambda s: {None: "default", True: "on", False: "off"}[s.generation.think]),
    ("seed", "seed ", lambda s: _optional(s.generation.seed)),
    ("tokens per turn", "turn tokens ", lambda s: _optional(s.generation.max_tokens)),
    ("turn budget", "turns ", lambda s: _budget(s.max_turns)),
    ("token budget", "tokens ", lambda s: _budget(s.max_tokens)),
    ("time budget", "seconds ", lambda s: _budget(s.max_seconds)),
    ("turn budget scale", "turns ×", lambda s: f"{s.turn_scale:g}"),
    ("token budget scale", "tokens ×", lambda s: f"{s.token_scale:g}"),
    ("directive", "directive ", lambda s: "yes" if s.directive else "none"),
]


def describe_settings(settings: AttemptSettings) -> str:
    """The tool mode, then each setting that is not the default: "native · temp 0.2"."""
    default = AttemptSettings()
    parts = [read(settings) for name, _, read in _FIELDS if name == "tool mode"]
    parts += [prefix + read(settings) for name, prefix, read in _FIELDS
              if name != "tool mode" and read(settings) != read(default)]
    return " · ".join(parts)


def setting_differences(settings: Mapping[str, AttemptSettings]) -> list[SettingDifference]:
    """The settings whose values differ between the given configurations, in a fixed order."""
    differences = []
    for name, _, read in _FIELDS:
        values = sorted({read(s) for s in settings.values()})
        if len(values) > 1:
            differences.append(SettingDifference(name, tuple(values)))
    return differences


def configuration_labels(settings: Mapping[str, AttemptSettings]) -> dict[str, str]:
    """A short name per settings key built from only what differs; "" for all when nothing does."""
    differing = {d.name for d in setting_differences(settings)}
    fields = [(prefix, read) for name, prefix, read in _FIELDS if name in differing]
    return {key: " · ".join(prefix + read(s) for prefix, read in fields) for key, s in settings.items()}
