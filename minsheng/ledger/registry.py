"""Anchorable record types: model → how to digest its canonical content (and, when a person acted,
who). `verify` uses the same functions to re-digest every referenced record, so an edit to an
anchored record after the fact is found.

Apps register their models here (`register(...)`); the ledger registers the projects models in
`apps.LedgerConfig.ready`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from minsheng.ledger import canonical
from minsheng.ledger.merkle import Hasher


@dataclass(frozen=True)
class RecordType:
    label: str  # app_label.model_name
    content: Callable[[Any], dict[str, Any]] | None  # canonical JSON content, or …
    file_field: str | None  # … the name of a FileField whose bytes are digested
    actor_field: str | None  # attname of the acting user's id, if any
    select_related: tuple[str, ...] = ()


_types: dict[str, RecordType] = {}


def register(
    model: type[models.Model] | str,
    *,
    content: Callable[[Any], dict[str, Any]] | None = None,
    file_field: str | None = None,
    actor_field: str | None = None,
    select_related: tuple[str, ...] = (),
) -> None:
    label = model if isinstance(model, str) else model._meta.label_lower
    if (content is None) == (file_field is None):
        raise ValueError("give exactly one of content= or file_field=")
    _types[label] = RecordType(label, content, file_field, actor_field, select_related)


def get(label: str) -> RecordType | None:
    return _types.get(label)


def registered_labels() -> list[str]:
    return sorted(_types)


def label_of(obj: models.Model) -> str:
    return obj._meta.label_lower


def digest(obj: models.Model, algorithm: str) -> str:
    """The hex digest of `obj`'s canonical content (or its file's bytes) with `algorithm`."""
    rtype = _types.get(label_of(obj))
    if rtype is None:
        raise LookupError(f"{label_of(obj)} is not an anchorable record type")
    hasher = Hasher(algorithm)
    if rtype.file_field:
        field = getattr(obj, rtype.file_field)
        h = hasher._new()
        with field.storage.open(field.name, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                h.update(chunk)
        return h.hexdigest()
    return hasher.digest(canonical.canonical(rtype.content(obj))).hex()


def actor_id(obj: models.Model) -> int | None:
    rtype = _types.get(label_of(obj))
    return getattr(obj, rtype.actor_field) if rtype and rtype.actor_field else None


def fetch(label: str, ids: list[str]) -> dict[str, models.Model]:
    """Load records of one type by id, in one query."""
    rtype = _types[label]
    model = apps.get_model(label)
    pks = []
    for i in ids:
        with suppress(ValidationError):  # a malformed id is simply not found
            pks.append(model._meta.pk.to_python(i))
    qs = model._default_manager.select_related(*rtype.select_related).filter(pk__in=pks)
    return {str(o.pk): o for o in qs}


def _time(value: dt.datetime | None) -> str | None:
    return canonical.format_time(value) if value else None


def register_projects() -> None:
    from minsheng.projects.models import Document, GateApproval, StageTransition

    register(Document, file_field="file", actor_field="uploaded_by_id", select_related=("project",))
    register(
        StageTransition,
        actor_field="actor_id",
        select_related=("project",),
        content=lambda t: {
            "id": t.pk,
            "project": t.project.code,
            "from": t.from_stage,
            "to": t.to_stage,
            "path": t.path,
            "request": t.request_id,
            "at": _time(t.at),
        },
    )
    register(
        GateApproval,
        actor_field="approver_id",
        select_related=("request", "request__project"),
        content=lambda a: {
            "id": a.pk,
            "project": a.request.project.code,
            "request": a.request_id,
            "from": a.request.from_stage,
            "to": a.request.to_stage,
            "slot": a.slot,
            "approve": a.approve,
            "comment": a.comment,
            "at": _time(a.at),
        },
    )
