"""Outgoing SMS behind one adapter chosen by `MINSHENG_SMS_BACKEND` (dotted path).

The console backend (development and tests) logs each message and keeps it in `outbox`, like
Django's locmem e-mail backend; a production deployment points the setting at its carrier's adapter,
a class with `send(phone, text)`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings

log = logging.getLogger(__name__)
DEFAULT_BACKEND = "minsheng.feedback.sms.ConsoleBackend"


@dataclass(frozen=True)
class Message:
    phone: str
    text: str


outbox: list[Message] = []


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append(Message(phone, text))
        log.info("SMS to %s****%s: %s", phone[:3], phone[-4:], text)


def backend() -> ConsoleBackend:
    path = getattr(settings, "MINSHENG_SMS_BACKEND", DEFAULT_BACKEND)
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)()


def send(phone: str, text: str) -> None:
    backend().send(phone, text)
