"""Providers are built lazily, one per host, so optional SDKs (``anthropic``, ``openai``)
load only when a cloud model is used."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.core.modelref import ModelRef
from app.core.providers.base import Provider, ProviderKind

Factory = Callable[[str], Provider]


def _ollama(host: str) -> Provider:
    from app.core.providers.ollama import OllamaProvider

    return OllamaProvider(host)


def _openai(host: str) -> Provider:
    from app.core.providers.openai_compat import OpenAICompatProvider
    from app.core.secrets import get_host_api_key

    return OpenAICompatProvider(host, api_key=get_host_api_key(host))


def _anthropic(host: str) -> Provider:
    from app.core.providers.anthropic_cloud import AnthropicCloudProvider

    return AnthropicCloudProvider(host)


def _openai_cloud(host: str) -> Provider:
    from app.core.providers.openai_cloud import OpenAICloudProvider

    return OpenAICloudProvider(host)


def _simulated(host: str) -> Provider:
    from app.core.providers.simulated import SimulatedProvider

    return SimulatedProvider(host)


DEFAULT_FACTORIES: dict[ProviderKind, Factory] = {
    ProviderKind.OLLAMA: _ollama,
    ProviderKind.OPENAI: _openai,
    ProviderKind.ANTHROPIC: _anthropic,
    ProviderKind.OPENAI_CLOUD: _openai_cloud,
    ProviderKind.SIMULATED: _simulated,
}


class ProviderPool:
    """Hands out one provider per (kind, host); ``close`` releases them all."""

    def __init__(self, factories: dict[ProviderKind, Factory] | None = None) -> None:
        self._factories = dict(DEFAULT_FACTORIES if factories is None else factories)
        self._providers: dict[tuple[ProviderKind, str], Provider] = {}
        self._lock = threading.Lock()

    def register(self, kind: ProviderKind, factory: Factory) -> None:
        self._factories[kind] = factory

    def get(self, ref: ModelRef) -> Provider:
        key = (ref.provider, ref.host)
        with self._lock:
            provider = self._providers.get(key)
            if provider is None:
                factory = self._factories.get(ref.provider)
                if factory is None:
                    raise KeyError(f"no provider for {ref.provider.value} models")
                provider = factory(ref.host)
                self._providers[key] = provider
            return provider

    def put(self, provider: Provider) -> None:
        """Use an already-built provider for its host (tests, custom settings)."""
        with self._lock:
            self._providers[(provider.kind, provider.host)] = provider

    def close(self) -> None:
        with self._lock:
            providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            provider.close()
