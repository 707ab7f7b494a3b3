"""Carries engine events from worker threads to the GUI thread, batched.

Workers call ``submit`` (a lock-free append); a timer in the GUI thread drains the
queue about every 50 ms and emits one ``events_arrived`` signal per batch, so four
models streaming tokens never flood the event loop.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.core.events import Event

BATCH_INTERVAL_MS = 50


class EventBridge(QObject):
    """Lives in the GUI thread; ``submit`` may be called from any thread."""

    events_arrived = Signal(list)  # list[Event], in publish order

    def __init__(self, parent: QObject | None = None, interval_ms: int = BATCH_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._queue: deque[Event] = deque()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def submit(self, event: Event) -> None:
        """Thread-safe: deque.append is atomic in CPython."""
        self._queue.append(event)

    @Slot()
    def drain(self) -> None:
        if not self._queue:
            return
        batch: list[Event] = []
        pop = self._queue.popleft
        try:
            while True:
                batch.append(pop())
        except IndexError:
            pass
        self.events_arrived.emit(batch)

    def stop(self) -> None:
        self._timer.stop()
        self.drain()
