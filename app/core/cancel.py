"""A thread-safe cancellation token shared by the runner, the loop and providers."""

from __future__ import annotations

import threading
from collections.abc import Callable


class CancelToken:
    """Set once by whoever wants work to stop; polled by the work, never raised into it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; return True at once if cancelled."""
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancelled (immediately if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()


class Cancelled(Exception):
    """Raised inside the engine when a ``CancelToken`` fires."""
