"""The sandbox with real files and real subprocesses: escapes are refused, floods and
runaway processes are contained, secrets do not leak, and nothing outside is touched."""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.tasks.builtin_tools import run_builtin
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.loader import load_task
from app.core.tasks.process_limits import resource_limits
from app.core.tasks.sandbox import Sandbox, SandboxError
from app.core.tasks.schema import CommandCheck, SuiteSpec
from app.core.tasks.workspace_checks import command_check


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
    ["rm -rf ../outside", "rm -rf /tmp/x", "ls; rm -rf /", "ls && cat /etc/passwd", "echo `id`", "echo $(id)", "cat ../outside/canary.txt",
     "cat /etc/passwd", "bash -c 'rm -rf /tmp'", "ls | grep x", "echo hi > ../outside/canary.txt",
     "find . -exec rm {} ;", "find . -delete", "sort --compress-program=sh pkg/mod.py",
     "grep --file=/etc/passwd x pkg", "head -n 1 pkg/../../outside/canary.txt", "find . -exec rm -rf {} +"],
)
def test_shell_tricks_and_disallowed_commands_are_refused(box: Sandbox, command: str) -> None:
    text, error = tool(box, "run_command", command=command)
    assert error
    assert any(word in text for word in ("without a shell", "not allowed", "outside"))


def test_commands_run_in_the_workspace(box: Sandbox) -> None:
    text, error = tool(box, "run_command", command="python -c \"import os; print(os.getcwd())\"")
    assert not error and box.inside(box.root) in text


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


def _alive_with_argument(marker: str) -> list[int]:
    """Host processes (not zombies) whose command line holds ``marker``."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if marker.encode() not in cmdline.read():
                    continue
            with open(f"/proc/{entry}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(int(entry))
        except OSError:
            pass
    return alive


def test_process_swarm_is_killed_with_its_group(box: Sandbox) -> None:
    script = (
        "import subprocess, sys\n"
        "procs = [subprocess.Popen(['sleep', '31.4159']) for _ in range(20)]\n"
        "open('pids.txt', 'w').write(' '.join(str(p.pid) for p in procs))\n"
        "import time; time.sleep(30)\n"
    )
    (box.root / "swarm.py").write_text(script)
    result = box.run(["python", "swarm.py"], timeout_s=1.5)
    assert result.timed_out
    assert len((box.root / "pids.txt").read_text().split()) == 20
    time.sleep(0.2)
    assert _alive_with_argument("31.4159") == []


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


def test_tilde_and_dollar_are_inert_words(box: Sandbox) -> None:
    text, error = tool(box, "run_command", command="echo ~ $HOME")
    assert not error and "~ $HOME" in text


def test_absolute_paths_inside_work_in_commands(box: Sandbox) -> None:
    text, error = tool(box, "run_command", command=f"cat {box.root / 'pkg' / 'mod.py'}")
    assert not error and "VALUE = 1" in text


def test_unexpanded_glob_gets_a_note(box: Sandbox) -> None:
    text, error = tool(box, "run_command", command="ls pkg/*.py")
    assert error and "not expanded" in text


def test_tool_errors_are_plain_results(box: Sandbox) -> None:
    assert tool(box, "read_file", path="nope.py") == (
        "error: there is no file 'nope.py'; use list_files to see what exists", True)
    assert "is a folder" in tool(box, "read_file", path="pkg")[0]
    assert "no folder" in tool(box, "list_files", path="missing")[0]
    assert "invalid regular expression" in tool(box, "search_code", pattern="(")[0]
    assert "not allowed" in tool(box, "run_command", command="curl http://example.test")[0]
    assert tool(box, "search_code", pattern="VALUE", path="pkg/mod.py")[0] == "pkg/mod.py:1: VALUE = 1"


def test_big_files_are_read_in_part(box: Sandbox) -> None:
    (box.root / "big.txt").write_text("y" * 300_000)
    text, error = tool(box, "read_file", path="big.txt")
    assert not error and "[file truncated: 300000 bytes" in text and len(text) < 101_000


def test_flood_keeps_parent_memory_bounded(box: Sandbox) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    box.run(["python", "-c", "import sys\nfor _ in range(100): sys.stdout.write('z' * 1_000_000)"])
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024


def test_a_child_holding_the_pipe_does_not_hang_the_call(box: Sandbox) -> None:
    script = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()  # leaves the process group: the group kill cannot reach it\n"
        "    open('escaped.pid', 'w').write(str(os.getpid()))\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "time.sleep(0.3)\n"
    )
    started = time.monotonic()
    result = box.run(["python", "-c", script], timeout_s=2)
    elapsed = time.monotonic() - started
    pid = int((box.root / "escaped.pid").read_text())
    os.kill(pid, signal.SIGKILL)  # the test started it, the test ends it
    assert elapsed < 2.5 and not result.timed_out


def test_resource_limits_here() -> None:
    limits = resource_limits()
    assert limits[resource.RLIMIT_CPU] > 0 and limits[resource.RLIMIT_FSIZE] > 0
    assert limits[resource.RLIMIT_AS] >= 1024**3
    assert (resource.RLIMIT_NPROC in limits) == (os.geteuid() != 0)


def test_file_size_limit_stops_a_huge_write(box: Sandbox) -> None:
    result = box.run(["python", "-c", "open('huge.bin', 'wb').write(b'0' * 50_000_000)"])
    assert result.exit_code != 0 and (box.root / "huge.bin").stat().st_size <= 20 * 1024**2


@pytest.mark.skipif(os.geteuid() == 0, reason="Linux does not apply RLIMIT_NPROC to root")
def test_process_limit_stops_a_fork_bomb(box: Sandbox) -> None:
    script = (
        "import subprocess\nn = 0\ntry:\n    for _ in range(500):\n"
        "        subprocess.Popen(['sleep', '20']); n += 1\nexcept OSError:\n    pass\nprint(n)\n"
    )
    result = box.run(["python", "-c", script], timeout_s=15)
    assert int(result.output.split()[0]) < 500


def test_hidden_files_never_write_through_links(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "task" / "workspace").mkdir(parents=True)
    (tmp_path / "task" / "hidden" / "sub").mkdir(parents=True)
    (tmp_path / "task" / "hidden" / "test_h.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "task" / "hidden" / "sub" / "canary.txt").write_text("replaced")
    (tmp_path / "task" / "task.yaml").write_text(
        "id: t\ntitle: t\ntier: a\nprompt: p\nworkspace: workspace\n"
        "tools: [{builtin: read_file}]\n"
        "checks: [{type: command, argv: [pytest, -q, test_h.py], hidden: hidden}]\n"
        "reference: [{answer: done}]\n"
    )
    task = load_task(tmp_path / "task" / "task.yaml", SuiteSpec(id="s", title="s", tiers=["a"]))
    check = task.spec.checks[0]
    assert isinstance(check, CommandCheck)
    with TaskEnvironment(task, scratch_root=tmp_path / "scratch") as env:
        assert env.sandbox is not None
        (env.sandbox.root / "test_h.py").symlink_to(outside)  # left behind by an attempt
        (env.sandbox.root / "sub").symlink_to(outside.parent)
        # hidden files are run from a folder of their own: links in the workspace lead nowhere
        assert command_check(check, env) == (True, "1 passed")
    assert outside.read_text() == "keep me"


def test_a_command_that_fills_the_disk_is_killed_at_the_quota(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.tasks import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "DISK_BYTES", 8 * 1024**2)
    (box.root / "fill.py").write_text(
        "import itertools, os\n"
        "for i in itertools.count():\n"
        "    with open(f'f{i}.bin', 'wb') as f:\n"
        "        f.write(os.urandom(1024 * 1024))\n"
    )
    result = box.run(["python", "fill.py"], timeout_s=20)
    assert "disk quota of 8 MB" in result.output and not result.timed_out
    assert sandbox_module.disk_usage(box.root) < 200 * 1024**2  # stopped long before the timeout
    again = box.run(["python", "-c", "print('hi')"])
    assert "over its disk quota" in again.output and "hi" not in again.output
