"""Discovery tells each host's state as it is known: a refused port at once, while a host that
accepts the connection and never answers is still being waited for."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from app.core.config import AppSettings, HostConfig
from app.core.discovery import discover_all
from app.core.providers.base import HostStatus, ProviderKind
from app.core.providers.ollama import OllamaProvider
from app.core.providers.registry import ProviderPool
from app.core.providers.simulated import SimulatedProvider


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[tuple[int, socket.socket]]:
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield int(listener.getsockname()[1]), listener
    finally:
        listener.close()


def test_a_refused_host_is_told_at_once_while_a_silent_one_is_still_awaited(
    silent_port: tuple[int, socket.socket],
) -> None:
    port, listener = silent_port
    refused = f"http://127.0.0.1:{_refused_port()}"
    silent = f"http://127.0.0.1:{port}"
    settings = AppSettings(hosts=[HostConfig(url=silent), HostConfig(url=refused)])
    pool = ProviderPool()
    pool.register(ProviderKind.OLLAMA, lambda host: OllamaProvider(host))
    pool.register(ProviderKind.SIMULATED, lambda host: SimulatedProvider(host, pace=0))
    heard: list[HostStatus] = []
    refused_heard = threading.Event()

    def on_status(status: HostStatus) -> None:
        heard.append(status)
        if status.host == refused:
            refused_heard.set()

    result: list[list[HostStatus]] = []
    worker = threading.Thread(
        target=lambda: result.append(discover_all(settings, pool, include_cloud=False, on_status=on_status))
    )
    worker.start()
    assert refused_heard.wait(5.0)
    assert worker.is_alive() and not result  # the silent host is still within its timeout
    told = {s.host: s for s in heard}
    assert not told[refused].reachable and "connection refused" in (told[refused].error or "")
    assert silent not in told
    listener.close()  # the silent host goes away: its pending connection is reset
    worker.join(20.0)
    assert not worker.is_alive()
    statuses = result[0]
    assert [s.host for s in statuses][:2] == [silent, refused]  # the configured order
    assert statuses[-1].provider is ProviderKind.SIMULATED
    assert {s.host for s in heard} == {s.host for s in statuses}
    assert not statuses[0].reachable
