"""What the start-up benchmarks share: a port that refuses at once, and the environment of
an app started in a private home with no keyring and no model server."""

from __future__ import annotations

import os
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: connecting is refused


def app_env(home: Path, port: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(
        PYTHONPATH=str(REPO),
        AGENTGAP_HOME=str(home),
        AGENTGAP_CONFIG=str(home / "settings.json"),
        XDG_CONFIG_HOME=str(home / "qt-settings"),
        OLLAMA_HOST=f"http://127.0.0.1:{port if port is not None else refused_port()}",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env
