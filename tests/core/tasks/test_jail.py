"""The jail: what a jailed command can see and do, the macOS profile as text, and the
argument checks that hold under any isolation."""

from __future__ import annotations

import ast
import os
import shutil
import sys
from pathlib import Path

import pytest

from app.core.tasks.builtin_tools import run_builtin
from app.core.tasks.jail import (
    IsolationLevel,
    JailPlan,
    free_mount_point,
    isolation_level,
    sandbox_exec_profile,
)
from app.core.tasks.sandbox import Sandbox, SandboxError

needs_bwrap = pytest.mark.skipif(
    isolation_level() is not IsolationLevel.BUBBLEWRAP, reason="bubblewrap is not available here"
)


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    (tmp_path / "ws").mkdir()
    return Sandbox(tmp_path / "ws")


def test_forcing_process_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGAP_ISOLATION", "process")
    assert isolation_level() is IsolationLevel.PROCESS
    assert IsolationLevel.PROCESS.label == "process isolation only"
    assert not IsolationLevel.PROCESS.is_jail and IsolationLevel.BUBBLEWRAP.is_jail


@needs_bwrap
def test_jailed_command_sees_no_home_no_network_and_a_private_tmp(box: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("s3cr3t")
    code = (
        "import os, socket\n"
        f"print('secret', os.path.exists({str(tmp_path / 'secret.txt')!r}))\n"
        "print('tmp', os.listdir('/tmp'))\n"
        "print('env', sorted(os.environ))\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:3])\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1); print('net yes')\n"
        "except OSError:\n    print('net no')\n"
        "try:\n    import app; print('app yes')\n"
        "except ImportError:\n    print('app no')\n"
    )
    (box.root / "probe.py").write_text(code)
    result = box.run(["python", "probe.py"])
    assert result.exit_code == 0, result.output
    assert "secret False" in result.output
    [listed] = [line for line in result.output.splitlines() if line.startswith("tmp ")]
    # /tmp is empty but for the folders holding the interpreter (a venv may live under /tmp)
    interpreter_parents = {
        Path(prefix).relative_to("/tmp").parts[0]
        for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)
        if Path(prefix).is_relative_to("/tmp")
    }
    assert set(ast.literal_eval(listed.removeprefix("tmp "))) <= interpreter_parents
    assert "net no" in result.output and "app no" in result.output
    assert "pids [1, 2" in result.output
    assert "OPENAI" not in result.output and "PYTHONPATH" not in result.output


@needs_bwrap
def test_only_the_workspace_is_writable(box: Sandbox) -> None:
    (box.root / "w.py").write_text(
        "import sys\nfor path in ('/usr/x', '/etc/x', sys.prefix + '/x'):\n"
        "    try:\n        open(path, 'w'); print('wrote', path)\n    except OSError:\n        pass\n"
        "open('ok.txt', 'w').write('fine')\n"
    )
    result = box.run(["python", "w.py"])
    assert "wrote" not in result.output
    assert (box.root / "ok.txt").read_text() == "fine"


@pytest.mark.parametrize(
    "argv",
    [["sort", "-o/etc/x", "a"], ["grep", "-f/etc/passwd", "a"], ["grep", "-f../x", "a"],
     ["sort", "--output=/tmp/x", "a"], ["find", ".", "-fprint", "x"]],
)
def test_values_glued_to_options_are_checked(box: Sandbox, argv: list[str]) -> None:
    with pytest.raises(SandboxError):
        box.run(argv)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_read_file_refuses_a_named_pipe(box: Sandbox) -> None:
    os.mkfifo(box.root / "pipe")
    output = run_builtin(box, "read_file", {"path": "pipe"})
    assert output.is_error and "not a regular file" in output.content


def test_write_file_never_writes_through_a_hard_link(box: Sandbox, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    os.link(outside, box.root / "linked.txt")
    output = run_builtin(box, "write_file", {"path": "linked.txt", "content": "new"})
    assert not output.is_error
    assert outside.read_text() == "keep me"
    assert (box.root / "linked.txt").read_text() == "new"


def test_commands_get_the_time_left(box: Sandbox) -> None:
    import time

    box.deadline = time.monotonic() + 1.0
    assert box.command_timeout() <= 1.0
    box.deadline = time.monotonic() + 1000
    assert box.command_timeout() == 30.0


def test_sandbox_exec_profile_has_the_jails_rules() -> None:
    plan = JailPlan(
        writable={"/Users/ana/ws": "/workspace"},
        readable={sys.prefix: sys.prefix},
        hidden=("/Users/ana/Library/Application Support/AgentGap",),
    )
    profile = sandbox_exec_profile(plan, "/Users/ana/ws/.tmp")
    lines = profile.splitlines()
    assert lines[:2] == ["(version 1)", "(deny default)"]
    assert "(deny network*)" in lines
    writable = next(line for line in lines if line.startswith("(allow file-read* file-write*"))
    assert '(subpath "/Users/ana/ws")' in writable and '(subpath "/Users/ana/ws/.tmp")' in writable
    assert "/Users/ana\"" not in profile  # HOME itself is never allowed
    assert '(deny file-read* file-write* (subpath "/Users/ana/Library/Application Support/AgentGap"))' in lines
    assert "(allow signal (target same-sandbox))" in lines
    assert profile.count("file-write*") == 3  # the workspace and tmp, /dev/null, the denied data folder


@needs_bwrap
def test_app_folders_inside_the_interpreter_are_masked(tmp_path: Path) -> None:
    """As installed by pip: the package (and the suites inside it) sit in site-packages."""
    import subprocess

    from app.core.tasks.jail import bwrap_argv

    site = tmp_path / "site"
    tasks = site / "app" / "_bundled" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "hidden.txt").write_text("answer key")
    (site / "other.txt").write_text("visible")
    plan = JailPlan(writable={}, readable={str(site): str(site)}, cwd="/",
                    hidden=(str(tasks), str(site / "app")))
    done = subprocess.run(bwrap_argv(plan, ["cat", str(site / "other.txt"), str(tasks / "hidden.txt")]),
                          capture_output=True, text=True, timeout=30)
    assert "visible" in done.stdout
    assert "answer key" not in done.stdout


def test_mount_points_move_aside_for_a_folder_they_would_hide() -> None:
    assert free_mount_point("/check", ["/usr/lib/python3"]) == "/check"
    assert free_mount_point("/check", ["/check/work/main/.venv"]) == "/check-2"
    assert free_mount_point("/workspace", ["/workspace", "/workspace-2/x"]) == "/workspace-3"


@needs_bwrap
def test_an_interpreter_living_where_the_jail_mounts_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone at /check/… or /workspace/… (CI machines, dev containers) keeps its Python
    visible: the jail's own folders step aside instead of covering it."""
    home = tmp_path / "place"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    monkeypatch.setenv("AGENTGAP_CHECK_PYTHON", str(home / "bin" / "python"))
    (tmp_path / "ws").mkdir()
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "note.txt").write_text("seen", "utf-8")
    wanted = str(home / "bin")
    box = Sandbox(tmp_path / "ws", inside_root=str(home), readable={tmp_path / "extra": wanted})
    assert box.inside_root != str(home) and box.readable[tmp_path / "extra"] != wanted
    result = box.run(["python", "-c", "print(6 * 7)"])
    assert (result.exit_code, result.output.strip()) == (0, "42")
    shown = box.execute([shutil.which("cat") or "/bin/cat", box.inside(tmp_path / "extra" / "note.txt")], timeout_s=10)
    assert shown.output == "seen"
