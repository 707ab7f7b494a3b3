"""Model references as users type them: ``sim:competent``, ``llama3.2``,
``localhost:11434/qwen2.5:7b``, ``http://127.0.0.1:8080/v1/smollm2``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from app.core.providers.base import ProviderKind

DEFAULT_OLLAMA_HOST = "http://localhost:11434"
#: Cloud API base URLs, overridable (``AGENTGAP_ANTHROPIC_BASE_URL``,
#: ``AGENTGAP_OPENAI_BASE_URL``) so a test or a proxy can stand in for the real service.
CLOUD_BASE_URLS = {
    ProviderKind.ANTHROPIC: ("AGENTGAP_ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    ProviderKind.OPENAI_CLOUD: ("AGENTGAP_OPENAI_BASE_URL", "https://api.openai.com/v1"),
}
_CLOUD_EXAMPLES = {ProviderKind.ANTHROPIC: "claude-sonnet-4-5", ProviderKind.OPENAI_CLOUD: "gpt-4.1-mini"}
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.\-\[\]]+:\d+)/(?P<model>.+)$")
_URL = re.compile(r"^(?P<base>https?://[^/]+)(?P<path>/.*)?$")


def default_ollama_host() -> str:
    """The Ollama host from ``OLLAMA_HOST`` (as the ollama CLI reads it), else localhost."""
    raw = os.environ.get("OLLAMA_HOST", "").strip()
    return normalize_host(raw) if raw else DEFAULT_OLLAMA_HOST


def cloud_base_url(kind: ProviderKind) -> str:
    """The API base URL of a cloud provider: its environment override, else the real endpoint."""
    variable, default = CLOUD_BASE_URLS[kind]
    return (os.environ.get(variable, "").strip() or default).rstrip("/")


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
    if text.startswith("sim:"):
        return ModelRef(ProviderKind.SIMULATED, "sim", text[len("sim:") :])
    for kind in CLOUD_BASE_URLS:
        prefix = f"{kind.value}:"
        if text.startswith(prefix):
            name = text[len(prefix) :].strip()
            if not name:
                raise ValueError(f"no model named after {prefix!r} (e.g. {prefix}{_CLOUD_EXAMPLES[kind]})")
            return ModelRef(kind, cloud_base_url(kind), name)
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
