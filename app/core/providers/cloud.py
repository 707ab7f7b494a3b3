"""What the cloud providers share: an SDK client for the key stored now, rebuilt when the
key changes, the SDK's own retries off (the runner decides what to retry)."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from app.core.providers.base import Provider, ProviderError
from app.core.secrets import get_api_key, missing_key_message

KeySource = Callable[[], str | None]
ClientT = TypeVar("ClientT")


class CloudProvider(Provider, Generic[ClientT]):
    """The key is read from the keyring for each turn, so a key added or replaced in
    Preferences applies at once; no key is a clear error, never a request."""

    key_name: ClassVar[str]  # the keyring entry
    company: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        key_source: KeySource | None = None,
        timeout_s: float = 300.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(base_url.rstrip("/"))
        self._key_source = key_source or (lambda: get_api_key(self.key_name))
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._client: ClientT | None = None
        self._key: str | None = None

    def close(self) -> None:
        """Close the SDK client and its connections."""
        with self._lock:
            client, self._client, self._key = self._client, None, None
        if client is not None:
            client.close()  # type: ignore[attr-defined]

    def _sdk_client(self) -> tuple[ClientT, str]:
        key = self._key_source()
        if not key:
            raise ProviderError(missing_key_message(self.key_name, self.company), retryable=False)
        sdk = self._load_sdk()
        with self._lock:
            if self._client is None or key != self._key:
                timeout = sdk.Timeout(self._timeout_s, connect=self._connect_timeout_s)
                self._client = self._new_client(sdk, key, timeout)
                self._key = key
            self.secret = key  # redacted from every error that leaves (Provider.redacted)
            return self._client, key

    @abstractmethod
    def _load_sdk(self) -> ModuleType:
        """Import the SDK, or raise a ProviderError saying which extra to install."""

    @abstractmethod
    def _new_client(self, sdk: ModuleType, key: str, timeout: Any) -> ClientT: ...
