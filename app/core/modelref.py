"""Model references as users type them: ``sim:competent``, ``llama3.2``,
``localhost:11434/qwen2.5:7b``, ``http://127.0.0.1:8080/v1/smollm2``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from app.core.providers.base import ProviderKind

DEFAULT_OLLAMA_HOST = "http://localhost:11434"
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.\-\[\]]+:\d+)/(?P<model>.+)$")
_URL = re.compile(r"^(?P<base>https?://[^/]+)(?P<path>/.*)?$")


def default_ollama_host() -> str:
    """The Ollama host from ``OLLAMA_HOST`` (as the ollama CLI reads it), else localhost."""
    raw = os.environ.get("OLLAMA_HOST", "").strip()
    return normalize_host(raw) if raw else DEFAULT_OLLAMA_HOST


def normalize_host(raw: str) -> str:
    """``localhost:11434`` → ``http://localhost:11434``; ``0.0.0.0`` → loopback; no trailing /."""
    host = raw.strip().rstrip("/")
    if not re.match(r"^https?://", host):
        host = "http://" + host
    match = _URL.match(host)
    if match is None:
        raise ValueError(f"not a host address: {raw!r}")
    base, path = match.group("base"), match.group("path") or ""
    if not re.search(r":\d+$", base):
        base += ":11434" if "/v1" not in path else ""
    base = base.replace("://0.0.0.0", "://127.0.0.1")
    return base + path


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which model on which host through which provider."""

    provider: ProviderKind
    host: str
    name: str

    @property
    def label(self) -> str:
        if self.provider is ProviderKind.SIMULATED:
            return f"sim:{self.name}"
        if self.provider in (ProviderKind.ANTHROPIC, ProviderKind.OPENAI_CLOUD):
            return f"{self.provider.value}:{self.name}"
        short = re.sub(r"^https?://", "", self.host)
        return f"{short}/{self.name}"

    @property
    def simulated(self) -> bool:
        return self.provider is ProviderKind.SIMULATED

    def __str__(self) -> str:
        return self.label


def parse_model_ref(text: str, known_hosts: dict[str, ProviderKind] | None = None) -> ModelRef:
    """Parse what a user typed. ``known_hosts`` maps host URLs to their provider kind."""
    text = text.strip()
    if not text:
        raise ValueError("empty model reference")
    known = known_hosts or {}
    for prefix, kind in (
        ("sim:", ProviderKind.SIMULATED),
        ("anthropic:", ProviderKind.ANTHROPIC),
        ("openai-cloud:", ProviderKind.OPENAI_CLOUD),
    ):
        if text.startswith(prefix):
            return ModelRef(kind, prefix.rstrip(":"), text[len(prefix) :])
    if text.startswith(("http://", "https://")):
        if "/v1/" in text:
            base, _, model = text.partition("/v1/")
            return ModelRef(ProviderKind.OPENAI, normalize_host(base + "/v1"), model)
        match = _URL.match(text)
        if match is None or not match.group("path") or match.group("path") == "/":
            raise ValueError(f"no model named after the host in {text!r}")
        host = normalize_host(match.group("base"))
        return ModelRef(known.get(host, ProviderKind.OLLAMA), host, match.group("path")[1:])
    match = _HOST_PORT.match(text)
    if match:
        host = normalize_host(match.group("host"))
        for known_host, kind in known.items():
            if known_host.startswith(host) and kind is ProviderKind.OPENAI:
                return ModelRef(kind, known_host, match.group("model"))
        return ModelRef(known.get(host, ProviderKind.OLLAMA), host, match.group("model"))
    return ModelRef(ProviderKind.OLLAMA, default_ollama_host(), text)
