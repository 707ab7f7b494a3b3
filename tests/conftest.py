"""Every test: no real keyring (so no stored cloud key is ever found), loopback only."""

from __future__ import annotations

import os

# Set before anything imports keyring; subprocesses (the CLI tests) inherit it. Tests that
# need keys install an in-memory keyring of their own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
