"""The sandbox with real files and real subprocesses: escapes are refused, floods and
runaway processes are contained, secrets do not leak, and nothing outside is touched."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.tasks.builtin_tools import run_builtin
from app.core.tasks.sandbox import Sandbox, SandboxError


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("keep me")
    return canary


@pytest.fixture
def box(tmp_path: Path, outside: Path) -> Iterator[Sandbox]:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("VALUE = 1\n")
    sandbox = Sandbox.create(source, scratch_root=tmp_path / "scratch")
    (sandbox.root / "link").symlink_to(outside.parent)
    (sandbox.root / "file_link").symlink_to(outside)
    yield sandbox
    sandbox.close()
    assert outside.read_text() == "keep me", "something outside the workspace was changed"
    assert not sandbox.root.exists()


def tool(box: Sandbox, name: str, **arguments: object) -> tuple[str, bool]:
    output = run_builtin(box, name, dict(arguments))
    return output.content, output.is_error


@pytest.mark.parametrize("path", ["../outside/canary.txt", "pkg/../../outside/canary.txt", "/etc/passwd", "link/canary.txt", "file_link"])
def test_paths_that_lead_out_are_refused(box: Sandbox, path: str) -> None:
    text, error = tool(box, "read_file", path=path)
    assert error and "outside" in text
    text, error = tool(box, "write_file", path=path, content="overwritten")
    assert error and "outside" in text


def test_absolute_path_inside_is_fine_and_files_work(box: Sandbox) -> None:
    text, error = tool(box, "read_file", path=str(box.root / "pkg" / "mod.py"))
    assert not error and "VALUE = 1" in text
    assert not tool(box, "write_file", path="new/dir/f.py", content="x = 2\n")[1]
    assert "new/dir/f.py" in tool(box, "list_files")[0]
    assert "pkg/mod.py:1: VALUE = 1" in tool(box, "search_code", pattern="VALUE")[0]


@pytest.mark.parametrize(
    "command",
    ["rm -rf ../outside", "ls; rm -rf /", "ls && cat /etc/passwd", "echo `id`", "echo $(id)", "cat ../outside/canary.txt",
     "cat /etc/passwd", "bash -c 'rm -rf /tmp'", "ls | grep x", "echo hi > ../outside/canary.txt"],
)
def test_shell_tricks_and_disallowed_commands_are_refused(box: Sandbox, command: str) -> None:
    text, error = tool(box, "run_command", command=command)
    assert error
    assert any(word in text for word in ("without a shell", "not allowed", "outside"))


def test_commands_run_in_the_workspace(box: Sandbox) -> None:
    text, error = tool(box, "run_command", command="python -c \"import os; print(os.getcwd())\"")
    assert not error and str(box.root) in text


def test_environment_is_scrubbed(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.1")
    text, _ = tool(box, "run_command", command="python -c \"import os; print(sorted(os.environ))\"")
    assert "OPENAI_API_KEY" not in text and "HTTPS_PROXY" not in text and "OLLAMA_HOST" not in text


def test_infinite_loop_is_killed_at_the_timeout(box: Sandbox) -> None:
    started = time.monotonic()
    result = box.run(["python", "-c", "while True: pass"], timeout_s=1.0)
    assert result.timed_out and time.monotonic() - started < 5


def test_a_flood_of_output_is_capped_quickly(box: Sandbox) -> None:
    started = time.monotonic()
    result = box.run(["python", "-c", "import sys\nfor _ in range(100): sys.stdout.write('x' * 1_000_000)"], timeout_s=30)
    assert result.truncated and len(result.output) < 100_000
    assert time.monotonic() - started < 10


def test_process_swarm_is_killed_with_its_group(box: Sandbox) -> None:
    script = (
        "import subprocess, sys\n"
        "procs = [subprocess.Popen(['sleep', '30']) for _ in range(20)]\n"
        "open('pids.txt', 'w').write(' '.join(str(p.pid) for p in procs))\n"
        "import time; time.sleep(30)\n"
    )
    (box.root / "swarm.py").write_text(script)
    result = box.run(["python", "swarm.py"], timeout_s=1.5)
    assert result.timed_out
    pids = [int(p) for p in (box.root / "pids.txt").read_text().split()]
    time.sleep(0.2)
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split()[2] != "Z":
                    alive.append(pid)
        except (ProcessLookupError, FileNotFoundError):
            pass
    assert alive == []


def test_memory_limit_stops_a_hog(box: Sandbox) -> None:
    result = box.run(["python", "-c", "x = bytearray(8 * 1024**3)"], timeout_s=20)
    assert result.exit_code != 0 and "MemoryError" in result.output


def test_resolve_refuses_nul_and_escape() -> None:
    sandbox = Sandbox.create(None)
    try:
        with pytest.raises(SandboxError):
            sandbox.resolve("a\x00b")
        with pytest.raises(SandboxError):
            sandbox.resolve("../x")
    finally:
        sandbox.close()
