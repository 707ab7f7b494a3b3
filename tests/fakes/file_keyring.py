"""A keyring backend for subprocess tests: passwords from the JSON file named by
``AGENTGAP_TEST_KEYRING`` ({"service": {"username": "password"}}), read-only."""

from __future__ import annotations

import json
import os

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _stored(self) -> dict[str, dict[str, str]]:
        path = os.environ.get("AGENTGAP_TEST_KEYRING", "")
        if not path:
            return {}
        with open(path, encoding="utf-8") as handle:
            data: dict[str, dict[str, str]] = json.load(handle)
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._stored().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("read-only test keyring")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError("read-only test keyring")
