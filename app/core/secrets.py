"""API keys for cloud baselines, kept in the system keyring and nowhere else."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

SERVICE = "AgentGap"
log = logging.getLogger(__name__)


class KeyringUnavailable(Exception):
    """No usable keyring backend: keys cannot be stored safely, so they are not stored."""


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    available: bool
    backend: str
    message: str


def keyring_status() -> KeyringStatus:
    """Which backend would hold keys, or a plain-words reason why none can."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as error:  # import errors, broken backends
        return KeyringStatus(False, "none", f"The system keyring could not be loaded ({error}).")
    name = type(backend).__name__
    if isinstance(backend, fail.Keyring) or "fail" in type(backend).__module__:
        return KeyringStatus(
            False,
            name,
            "No system keyring is available (on Linux install and unlock GNOME Keyring or "
            "KWallet). API keys are never written to disk in plain text, so cloud baselines "
            "stay off until a keyring is available.",
        )
    return KeyringStatus(True, name, f"Keys are stored in the system keyring ({name}).")


def get_api_key(provider: str) -> str | None:
    status = keyring_status()
    if not status.available:
        return None
    import keyring

    try:
        value = keyring.get_password(SERVICE, provider)
    except Exception as error:
        log.warning("keyring read failed for %s: %s", provider, type(error).__name__)
        return None
    return value or None


def set_api_key(provider: str, key: str | None) -> None:
    """Store (or with None/empty, delete) a key. Raises KeyringUnavailable with the reason."""
    status = keyring_status()
    if not status.available:
        raise KeyringUnavailable(status.message)
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        if key:
            keyring.set_password(SERVICE, provider, key)
        else:
            with contextlib.suppress(PasswordDeleteError):
                keyring.delete_password(SERVICE, provider)
    except PasswordDeleteError:
        pass
    except Exception as error:
        raise KeyringUnavailable(f"The keyring refused the key: {type(error).__name__}") from error
