"""Probe every configured host (in parallel) and the built-in simulated models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app.core.config import AppSettings
from app.core.modelref import ModelRef
from app.core.providers.base import HostStatus, ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.providers.simulated import SIM_HOST


def discover_all(
    settings: AppSettings, pool: ProviderPool, *, include_simulated: bool = True
) -> list[HostStatus]:
    """One HostStatus per host, configured order, simulated last. Never raises."""
    refs = [ModelRef(h.provider, h.normalized_url, "") for h in settings.effective_hosts()]
    if include_simulated:
        refs.append(ModelRef(ProviderKind.SIMULATED, SIM_HOST, ""))

    def probe(ref: ModelRef) -> HostStatus:
        try:
            return pool.get(ref).discover()
        except Exception as error:  # a provider bug must not hide the other hosts
            return HostStatus(ref.provider, ref.host, False, error=f"{type(error).__name__}: {error}")

    with ThreadPoolExecutor(max_workers=max(1, len(refs))) as executor:
        return list(executor.map(probe, refs))
