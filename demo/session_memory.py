"""One byte budget for the results all sessions keep (`AppConfig.max_total_history_mb`).

Each session's history is bounded by itself (demo/history.py: `max_history_mb`, and a batch's page set as
much again), but sessions come and go: 200 sessions of 5 MB (Gradio keeps them up to an hour) would be
1 GB. `SessionLedger` holds what each session keeps, in least-recently-used order; when the total passes the
budget, the least recently used OTHER sessions are named to be cleared (the app then drops their results,
as if their time-to-live had ended). `held_bytes` measures what a session's state values hold.

No Gradio here: the ledger only sees opaque session objects, held by weak reference, so a session that
Gradio itself dropped is neither kept alive nor counted. demo/ui/blocks.py records sessions and clears them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from demo.history import DOCUMENT_BYTES, Document, OcrResult, entry_bytes
from demo.pageset import PageSet


class SessionLedger:
    """Bytes held per session, least recently recorded first; thread-safe.

    `measure`, if given, re-measures a session before it is cleared (under the ledger's lock, so it must be
    quick and must not call the ledger): one that holds less than recorded (its values expired meanwhile) is
    counted at its new size, and one that holds nothing is forgotten instead of cleared.
    """

    def __init__(self, budget_bytes: int, measure: Callable[[Any], int] | None = None) -> None:
        if budget_bytes < 1:
            raise ValueError(f"budget_bytes must be >= 1, got {budget_bytes}")
        self.budget_bytes = int(budget_bytes)
        self._measure = measure
        self._lock = threading.Lock()
        # id(session) -> (weak reference, bytes); the session's id is only used while the reference lives
        self._held: OrderedDict[int, tuple[weakref.ref[Any], int]] = OrderedDict()

    def record(self, session: Any, held_bytes: int) -> list[Any]:
        """`session` now holds `held_bytes` and is the most recently used. Returns the sessions to clear, least
        recently used first, until the total is within the budget; never `session` itself (one session may
        exceed the budget alone). They are forgotten here; the caller drops what they hold."""
        held_bytes = max(0, int(held_bytes))
        with self._lock:
            self._forget_dead()
            key = id(session)
            self._held.pop(key, None)
            if held_bytes:
                self._held[key] = (weakref.ref(session), held_bytes)
            return self._over_budget(key)

    def forget(self, session: Any) -> None:
        with self._lock:
            entry = self._held.get(id(session))
            if entry is not None and entry[0]() is session:
                del self._held[id(session)]

    @property
    def total_bytes(self) -> int:
        with self._lock:
            self._forget_dead()
            return sum(size for _ref, size in self._held.values())

    def sessions(self) -> list[Any]:
        """The live sessions recorded, least recently used first."""
        with self._lock:
            self._forget_dead()
            return [session for session in (ref() for ref, _size in self._held.values()) if session is not None]

    def _forget_dead(self) -> None:
        for key in [key for key, (ref, _size) in self._held.items() if ref() is None]:
            del self._held[key]

    def _over_budget(self, recorded: int) -> list[Any]:
        total = sum(size for _ref, size in self._held.values())
        cleared: list[Any] = []
        measured: set[int] = set()
        while total > self.budget_bytes:
            key = next((key for key in self._held if key != recorded), None)
            if key is None:
                break  # only the recorded session is left: it may hold its own worth
            ref, size = self._held[key]
            victim = ref()
            if victim is not None and self._measure is not None and key not in measured:
                measured.add(key)
                fresh = max(0, int(self._measure(victim)))
                if fresh < size:  # some of its values expired meanwhile
                    total -= size - fresh
                    if fresh:
                        self._held[key] = (ref, fresh)
                    else:
                        del self._held[key]
                    continue
            del self._held[key]
            total -= size
            if victim is not None:
                cleared.append(victim)
        return cleared


def held_bytes(values: Iterable[Any]) -> int:
    """Bytes a session's state values hold in results: its history (each entry's `entry_bytes`), page sets
    (the results they keep) and the shown result. A result object found more than once (the shown result is
    also in the history and often in a page set) is counted once; other values (paths, a batch's headline
    and records, None) count nothing here."""
    results: dict[int, OcrResult] = {}
    documents: set[int] = set()

    def add(value: Any, depth: int) -> None:
        if isinstance(value, OcrResult):
            results.setdefault(id(value), value)
        elif isinstance(value, Document):
            documents.add(id(value))
            for page in value.pages:
                add(page, depth)
        elif isinstance(value, PageSet):
            for item in value.items:
                add(item, depth)
        elif isinstance(value, tuple) and depth < 1:  # a history: a tuple of entries
            for item in value:
                add(item, depth + 1)

    for value in values:
        add(value, 0)
    return sum(entry_bytes(result) for result in results.values()) + DOCUMENT_BYTES * len(documents)
