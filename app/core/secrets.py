"""API keys for cloud baselines, kept in the system keyring and nowhere else."""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass

SERVICE = "AgentGap"
COMPAT_SERVICE = "openai-compat"  # username: the server's base URL
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
    """The key stored for a cloud provider (``anthropic``, ``openai-cloud``), or None."""
    return _read(SERVICE, provider)


def get_host_api_key(host: str) -> str | None:
    """The optional key of an OpenAI-compatible server, stored under its base URL, or None."""
    return _read(COMPAT_SERVICE, host)


def _read(service: str, username: str) -> str | None:
    status = keyring_status()
    if not status.available:
        return None
    import keyring

    try:
        value = keyring.get_password(service, username)
    except Exception as error:
        log.warning("keyring read failed for %s: %s", username, type(error).__name__)
        return None
    return value or None


def missing_key_message(provider: str, company: str) -> str:
    """Why no key can be used for ``provider``, and what to do about it, in plain words."""
    status = keyring_status()
    if not status.available:
        return f"No {company} API key can be read: {status.message}"
    return (
        f"No {company} API key is stored in the system keyring. Add one in Preferences → API "
        f"keys, or from a terminal with: keyring set {SERVICE} {provider}"
    )


def redact(text: str, key: str | None) -> str:
    """``text`` with every trace of ``key`` removed: whole, and the prefix/suffix some
    services echo back (``sk-abc***wxyz``)."""
    if not key:
        return text
    text = text.replace(key, "[key]")
    if len(key) >= 12:
        text = re.sub(re.escape(key[:6]) + r"\S*", "[key]", text)
        # anchored at the start of a run of non-spaces, so a long run is scanned once
        text = re.sub(r"(?<!\S)\S*" + re.escape(key[-4:]) + r"\b", "[key]", text)
    return text


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
