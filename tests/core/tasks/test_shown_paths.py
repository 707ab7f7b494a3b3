"""Machine paths leave what users read, and a flood of output is cleaned in one pass."""

from __future__ import annotations

from pathlib import Path

from app.core.tasks.shown_paths import shown_paths


def test_scratch_folders_and_the_workspace_become_relative(tmp_path: Path) -> None:
    workspace = tmp_path / "agentgap-ws-abc123"
    text = (f"File \"{workspace}/src/stats.py\", line 3; see /var/tmp/agentgap-hidden-x9/test_a.py "
            f"and C:\\Temp\\agentgap-ws-q1\\b.py or '/tmp/agentgap-ws-zz'")
    shown = shown_paths(text, workspace)
    assert shown == 'File "src/stats.py", line 3; see test_a.py and b.py or \'.\''


def test_megabytes_without_a_space_are_cleaned_in_one_pass() -> None:
    """Output that is one long run of path characters (a flood from a command) is scanned
    once: it used to be scanned from every character and stalled the attempt for minutes."""
    flood = "x" * 5_000_000
    assert shown_paths(flood) == flood
    assert shown_paths(flood + " /tmp/agentgap-ws-a1/f.py") == flood + " f.py"
