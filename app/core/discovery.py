"""Probe every configured host (in parallel), the cloud providers whose API key is stored,
and the built-in simulated models."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from app.core.cloud_notice import CLOUD_KINDS
from app.core.config import AppSettings
from app.core.modelref import ModelRef, cloud_base_url
from app.core.providers.base import HostStatus, ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.providers.simulated import SIM_HOST
from app.core.secrets import get_api_key

log = logging.getLogger(__name__)


def discover_all(
    settings: AppSettings,
    pool: ProviderPool,
    *,
    include_simulated: bool = True,
    include_cloud: bool = True,
    on_status: Callable[[HostStatus], None] | None = None,
) -> list[HostStatus]:
    """One HostStatus per host, configured order, then cloud, simulated last. Never raises.

    ``on_status`` hears each host's state as soon as it is known (on a probing thread), so
    a refused port shows at once while a silent host still has its timeout to run."""
    refs = [ModelRef(h.provider, h.normalized_url, "") for h in settings.effective_hosts()]
    if include_cloud:
        refs += cloud_refs()
    if include_simulated:
        refs.append(ModelRef(ProviderKind.SIMULATED, SIM_HOST, ""))

    def probe(ref: ModelRef) -> HostStatus:
        try:
            status = refused_status(ref) or pool.get(ref).discover()
        except Exception as error:  # a provider bug must not hide the other hosts
            status = HostStatus(ref.provider, ref.host, False, error=f"{type(error).__name__}: {error}")
        if on_status is not None:
            try:
                on_status(status)
            except Exception:
                log.exception("a listener of discovery failed")
        return status

    with ThreadPoolExecutor(max_workers=max(1, len(refs))) as executor:
        return list(executor.map(probe, refs))


REFUSAL_PROBE_S = 0.25


def refused_status(ref: ModelRef) -> HostStatus | None:
    """An Ollama host whose port refuses the connection, told at once (before the client
    is even loaded); None when it accepts, stays silent or cannot be asked this way, and
    the provider's own discovery (with its timeouts) decides."""
    if ref.provider is not ProviderKind.OLLAMA:
        return None
    url = urlsplit(ref.host)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        with socket.create_connection((url.hostname or "localhost", port), timeout=REFUSAL_PROBE_S):
            return None
    except ConnectionRefusedError:
        message = f"No Ollama server at {ref.host} (connection refused). Start it with `ollama serve`."
        return HostStatus(ref.provider, ref.host, False, error=message)
    except (OSError, ValueError):
        return None


def cloud_refs() -> list[ModelRef]:
    """The cloud providers with a stored API key; without a key nothing touches the network."""
    return [
        ModelRef(kind, cloud_base_url(kind), "")
        for kind in sorted(CLOUD_KINDS)
        if get_api_key(kind.value)
    ]
