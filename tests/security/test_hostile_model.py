"""A hostile model through the real command line: every attack of ``hostile_model`` is one
model of a run on a real coding task, played as real tool calls, with a canary file in
HOME, a canary API key in the environment and in the keyring, a loopback listener and an
abstract socket waiting. Under the jail every attack holds; under process isolation only,
the attacks a jail is needed for are known failures (strict xfail), so the gap stays
visible."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.core.modelref import normalize_host
from app.core.tasks.jail import IsolationLevel, isolation_level
from tests.fakes.hostile_model import (
    CANARY_HOME_TEXT,
    DATA_MARKER,
    HIDDEN_TEST_TEXT,
    Attack,
    HostileServer,
    Targets,
    attacks,
    survivor_markers,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[2]
CANARY_KEY = "sk-canary-" + "c4n4ry" * 4
TASK = "coding.read-fix-write"
MAX_SECONDS = 20
SHADOW = re.compile(r"root:[*!$]")
# What an attack reads besides the universal secrets, when that is what would leak.
SPECIFIC_MARKERS = {
    "import-app": "__main__.py",
    "other-attempts": "agentgap-ws-",
    "proc-scan-cmdline": "--db",
    "model-server": "echo-key",
}
_DUMMY = Targets(Path("/h"), Path("/e"), Path("/d"), 1, "s", "0" * 16, "http://x/v1")
ATTACK_NAMES = [a.name for a in attacks(_DUMMY)]
NEEDS_JAIL = {a.name: a.needs_jail for a in attacks(_DUMMY)}


class _Listener:
    """Records whatever arrives on a loopback TCP port and an abstract Unix socket."""

    def __init__(self, abstract: str) -> None:
        self.received = bytearray()
        self._tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self._tcp.getsockname()[1]
        self._unix = socket.socket(socket.AF_UNIX)
        self._unix.bind("\0" + abstract)
        self._unix.listen()
        self._stop = False
        for server in (self._tcp, self._unix):
            threading.Thread(target=self._serve, args=(server,), daemon=True).start()

    def _serve(self, server: socket.socket) -> None:
        server.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while chunk := conn.recv(4096):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self._tcp.close()
        self._unix.close()


@dataclass
class HostileRun:
    mode: str
    targets: Targets
    server: HostileServer
    listener: _Listener
    outcomes: dict[str, dict[str, Any]]
    db: Path
    stderr: str
    survivors: list[int] = field(default_factory=list)
    attack_by_name: dict[str, Attack] = field(default_factory=dict)


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    with open(f"/proc/{entry}/stat") as stat:
                        if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                            found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module", params=["jail", "process"])
def hostile_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    mode = request.param
    if mode == "jail" and isolation_level() is not IsolationLevel.BUBBLEWRAP:
        pytest.skip("bubblewrap is not available here")
    root = tmp_path_factory.mktemp(f"hostile-{mode}")
    token = secrets.token_hex(8)
    home, escape, data = root / "home", root / "escape", root / "data"
    for folder in (home, escape, data):
        folder.mkdir()
    (home / "canary.txt").write_text(CANARY_HOME_TEXT)
    keyring_file = home / ".local" / "share" / "python_keyring" / "keyring_pass.cfg"
    keyring_file.parent.mkdir(parents=True)
    keyring_file.write_text(f"[openai-compat]\nhost = {CANARY_KEY}\n")
    (data / f"{DATA_MARKER}.txt").write_text(DATA_MARKER)
    listener = _Listener(f"agentgap-{token}")
    server = HostileServer(ATTACK_NAMES, api_key=CANARY_KEY)
    server.__enter__()
    targets = Targets(home, escape, data, listener.port, f"agentgap-{token}", token, server.url)
    attack_list = attacks(targets)
    server.play(attack_list)
    stored_keys = root / "keyring.json"
    stored_keys.write_text(json.dumps({"openai-compat": {normalize_host(server.url): CANARY_KEY}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "AGENTGAP"))}
    env.update(
        HOME=str(home),
        OPENAI_API_KEY=CANARY_KEY,
        AGENTGAP_HOME=str(data),
        AGENTGAP_CONFIG=str(root / "settings.json"),
        OLLAMA_HOST="127.0.0.1:9",
        PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
        AGENTGAP_TEST_KEYRING=str(stored_keys),
    )
    if mode == "process":
        env["AGENTGAP_ISOLATION"] = "process"
    db = data / "runs.db"
    models = [f"{server.url}/{a.name}" for a in attack_list] + [f"{server.url}/echo-key"]
    argv = [sys.executable, "-m", "app", "--db", str(db), "run", "--task", TASK, "-n", "1",
            "--max-seconds", str(MAX_SECONDS), "--concurrency", "2", "--json"]
    for model in models:
        argv += ["-m", model]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    outcomes: dict[str, dict[str, Any]] = {}
    if done.stdout.strip():
        for attempt in json.loads(done.stdout)["attempts"]:
            outcomes[attempt["model"].rsplit("/", 1)[-1]] = attempt
    run = HostileRun(mode, targets, server, listener, outcomes, db, done.stderr,
                     attack_by_name={a.name: a for a in attack_list})
    run.survivors = [pid for marker in survivor_markers(token) for pid in _pids_with(marker)]
    try:
        yield run
    finally:
        for pid in run.survivors + [p for m in survivor_markers(token) for p in _pids_with(m)]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for leftover in (Path(f"/tmp/agentgap-{token}-tmp-drop"), Path(f"/dev/shm/agentgap-{token}-dev-shm-drop")):
            leftover.unlink(missing_ok=True)
        listener.close()
        server.__exit__(None, None, None)


def breaches(run: HostileRun, name: str) -> list[str]:
    """Every way attack ``name`` got through, in words (empty: it held)."""
    attack = run.attack_by_name[name]
    found: list[str] = []
    seen = run.server.tool_results(name)
    for secret in (CANARY_KEY, CANARY_HOME_TEXT, DATA_MARKER, HIDDEN_TEST_TEXT):
        if secret in seen or secret[::-1] in seen:  # a key is masked; a reversed one is not
            found.append(f"the model was sent {secret!r}")
    if SHADOW.search(seen):
        found.append("the model was sent /etc/shadow")
    marker = SPECIFIC_MARKERS.get(name)
    if marker and marker in seen:
        found.append(f"the model was sent {marker!r}")
    token = run.targets.token
    if (run.targets.escape / name).exists() or (run.targets.home / name).exists():
        found.append("it wrote outside the workspace")
    if (run.targets.home / "canary.txt").read_text() != CANARY_HOME_TEXT:
        found.append("the file in HOME changed")
    for path in (Path(f"/tmp/agentgap-{token}-{name}"), Path(f"/dev/shm/agentgap-{token}-{name}")):
        if path.exists():
            found.append(f"it left {path} behind")
    if f"{token}-{name}".encode() in run.listener.received:
        found.append("it reached a listener on the host")
    if name in ("setsid-survivor", "double-fork-survivor") and run.survivors:
        found.append("a process outlived its command")
    result = run.outcomes.get(name)
    if result is None:
        found.append("the attempt was not recorded")
        return found
    if result["outcome"] in ("infra_error", "harness_error"):
        found.append(f"it broke the harness ({result['outcome']}: {result.get('detail', '')[:200]})")
    if attack.cheat and result["outcome"] == "passed":
        found.append("it forged a pass")
    if attack.expect_outcome and result["outcome"] != attack.expect_outcome:
        found.append(f"outcome {result['outcome']}, expected {attack.expect_outcome}")
    return found


def _param(mode: str, name: str) -> Any:
    reason = NEEDS_JAIL[name]
    if mode == "process" and reason:
        return pytest.param(mode, name, marks=pytest.mark.xfail(strict=True, reason=reason), id=f"{mode}-{name}")
    return pytest.param(mode, name, id=f"{mode}-{name}")


@pytest.mark.parametrize(("mode", "name"), [_param(m, n) for m in ("jail", "process") for n in ATTACK_NAMES])
def test_attack_holds(hostile_run: HostileRun, mode: str, name: str) -> None:
    if hostile_run.mode != mode:
        pytest.skip("run under the other isolation")
    assert breaches(hostile_run, name) == [], hostile_run.stderr[-2000:]


def test_there_are_at_least_forty_attacks() -> None:
    assert len(ATTACK_NAMES) >= 40
    assert len(set(ATTACK_NAMES)) == len(ATTACK_NAMES)


KEY_LEAKS_WITHOUT_JAIL = (
    "without a jail the model reads the key from /proc/<parent>/environ and the HOME keyring "
    "file; the literal key is masked in tool results, but a transformed one (reversed) is then "
    "in its transcript (stored, exported)"
)


@pytest.mark.parametrize(
    "mode",
    ["jail", pytest.param("process", marks=pytest.mark.xfail(strict=True, reason=KEY_LEAKS_WITHOUT_JAIL))],
)
def test_the_canary_key_reaches_no_database_log_or_export(hostile_run: HostileRun, tmp_path: Path, mode: str) -> None:
    if hostile_run.mode != mode:
        pytest.skip("run under the other isolation")
    echoed = hostile_run.outcomes.get("echo-key")
    assert echoed is not None and echoed["outcome"] == "infra_error"
    assert "[key]" in echoed["detail"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "AGENTGAP"))}
    env.update(AGENTGAP_HOME=str(hostile_run.targets.data), AGENTGAP_CONFIG=str(tmp_path / "s.json"))
    run_id = json.loads(subprocess.run(
        [sys.executable, "-m", "app", "--db", str(hostile_run.db), "runs", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout)[0]["id"]
    places = {"stderr": hostile_run.stderr}
    for fmt in ("html", "md", "csv", "json"):
        out = tmp_path / f"report.{fmt}"
        done = subprocess.run(
            [sys.executable, "-m", "app", "--db", str(hostile_run.db), "report", run_id, "-f", fmt, "-o", str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        places[fmt] = out.read_text(errors="replace")
    for file in hostile_run.targets.data.rglob("*"):
        if file.is_file():
            places[str(file)] = file.read_bytes().decode("latin-1")
    forms = (CANARY_KEY, CANARY_KEY[:14], CANARY_KEY[::-1])  # literal keys are masked; others are not
    assert [where for where, text in places.items() if any(form in text for form in forms)] == []
