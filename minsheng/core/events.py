"""Domain events sent after commit.

A service that wants others to react ("a stage changed", "a document was uploaded") calls
`send_on_commit(name, **payload)`. Handlers registered with `@subscribe(name)` run only after the
transaction commits, so nothing reacts to a change that was rolled back. Handlers should be thin:
typically they enqueue a task.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)
Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if fn not in _handlers[name]:
            _handlers[name].append(fn)
        return fn

    return register


def handlers_for(name: str) -> list[Handler]:
    return list(_handlers.get(name, []))


def send_on_commit(name: str, **payload: Any) -> None:
    def dispatch() -> None:
        for handler in handlers_for(name):
            try:
                handler(**payload)
            except Exception:  # one failing subscriber must not stop the others
                log.exception("event handler %s for %s failed", handler, name)

    transaction.on_commit(dispatch)
