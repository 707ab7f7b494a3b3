"""User settings: hosts, default budgets and run options, kept as JSON in the data folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.modelref import default_ollama_host, normalize_host
from app.core.outcomes import ToolMode
from app.core.paths import settings_path
from app.core.providers.base import ProviderKind

log = logging.getLogger(__name__)


class HostConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["ollama", "openai"] = "ollama"
    url: str
    label: str = ""
    enabled: bool = True
    concurrency: int = Field(default=1, ge=1, le=16)
    # keep two models loaded and alternate their attempts: tests models that must share memory
    co_resident: bool = False

    @property
    def provider(self) -> ProviderKind:
        return ProviderKind(self.kind)

    @property
    def normalized_url(self) -> str:
        return normalize_host(self.url)


class DefaultBudgets(BaseModel):
    model_config = ConfigDict(extra="ignore")

    max_turns: int | None = Field(default=None, ge=1, le=200)
    max_tokens: int | None = Field(default=None, ge=16)
    max_seconds: float | None = Field(default=None, gt=0)


class AppSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hosts: list[HostConfig] = Field(default_factory=list)
    budgets: DefaultBudgets = DefaultBudgets()
    repeats: int = Field(default=3, ge=1, le=100)
    tool_mode: ToolMode = ToolMode.RECOVERY
    temperature: float | None = None
    think: bool | None = None
    simulated_pace: float = Field(default=1.0, ge=0, le=10)
    extra_task_dirs: list[str] = Field(default_factory=list)
    # the user has read what a run with a cloud model sends, to whom, and that it is billed
    cloud_notice_accepted: bool = False
    # refuse to run coding tasks where the OS gives no jail (process isolation only)
    require_jail: bool = False
    theme: Literal["", "light", "dark"] = ""  # "" follows the system

    def effective_hosts(self) -> list[HostConfig]:
        """Configured hosts, or the default Ollama host (``OLLAMA_HOST`` honoured)."""
        hosts = [h for h in self.hosts if h.enabled]
        if not any(h.kind == "ollama" for h in self.hosts):
            hosts.insert(0, HostConfig(kind="ollama", url=default_ollama_host(), label="Ollama"))
        return hosts

    def known_hosts(self) -> dict[str, ProviderKind]:
        return {h.normalized_url: h.provider for h in self.effective_hosts()}


def load_settings(path: Path | None = None) -> AppSettings:
    """Read settings; a missing or broken file gives defaults (and a log line), never a crash."""
    path = path or settings_path()
    try:
        return AppSettings.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValueError, ValidationError) as error:
        log.warning("ignoring unreadable settings file %s: %s", path, error)
        return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)
