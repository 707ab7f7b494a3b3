"""Fan-out of engine events to the store, the CLI and the GUI bridge."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.core.events import Event

Subscriber = Callable[[Event], None]
log = logging.getLogger(__name__)


class EventBus:
    """Delivers each event to every subscriber on the publishing thread, in order.

    Subscribers must be quick (enqueue, don't work); one that raises is logged, not fatal.
    """

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.kind)
