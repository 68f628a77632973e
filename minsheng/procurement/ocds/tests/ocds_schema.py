"""Validation against the OCDS 1.1.5 schema as published, read from local files (no network).

The schema folder comes from MINSHENG_OCDS_SCHEMA_DIR, by default <repo>/../shared/standards/ocds-1.1.5 (its
`schema/` subfolder is used when present). Closed codelists are enforced: every field the schema marks with
`"codelist": …, "openCodelist": false` gets an `enum` of the codes in that codelist's CSV, so a value outside
it fails validation like any other schema error. `date-time` and `uri` formats are checked too.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO = Path(__file__).resolve().parents[4]


def schema_dir() -> Path:
    base = Path(os.environ.get("MINSHENG_OCDS_SCHEMA_DIR", REPO.parent / "shared" / "standards" / "ocds-1.1.5"))
    folder = base / "schema" if (base / "schema").is_dir() else base
    if not (folder / "release-schema.json").is_file():
        raise FileNotFoundError(
            f"OCDS 1.1.5 schema not found at {folder}: set MINSHENG_OCDS_SCHEMA_DIR to the folder holding "
            "release-schema.json (or its parent)."
        )
    return folder


def load(name: str) -> dict[str, Any]:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


@functools.cache
def codelist(name: str) -> list[str]:
    with (schema_dir() / "codelists" / name).open(encoding="utf-8") as f:
        return [row["Code"] for row in csv.DictReader(f)]


def _close_codelists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _close_codelists(v) for k, v in node.items()}
        if node.get("codelist") and node.get("openCodelist") is False:
            codes: list[Any] = list(codelist(node["codelist"]))
            types = node.get("type", [])
            types = [types] if isinstance(types, str) else types
            if "array" in types:
                node["items"] = {**node.get("items", {}), "enum": codes}
            else:
                node["enum"] = codes + ([None] if "null" in types else [])
        return node
    if isinstance(node, list):
        return [_close_codelists(v) for v in node]
    return node


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value and parsed.tzinfo is not None


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return bool(parts.scheme) and (bool(parts.netloc) or bool(parts.path))


FORMATS = FormatChecker()
FORMATS.checks("date-time")(_date_time)
FORMATS.checks("uri")(_uri)


@functools.cache
def _registry() -> Registry:
    resources = []
    for name in ("release-schema.json", "release-package-schema.json", "record-package-schema.json",
                 "versioned-release-validation-schema.json"):
        schema = _close_codelists(load(name))
        resources.append((schema["id"], Resource.from_contents(schema, default_specification=DRAFT4)))
    return Registry().with_resources(resources)


@functools.cache
def validator(name: str) -> Draft4Validator:
    schema = _close_codelists(load(name))
    return Draft4Validator(schema, registry=_registry(), format_checker=FORMATS)


def errors(name: str, instance: Any) -> list[str]:
    """Every schema error of `instance` against schema file `name`, as readable lines."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator(name).iter_errors(copy.deepcopy(instance))
    ]


def assert_valid(name: str, instance: Any) -> None:
    found = errors(name, instance)
    assert not found, "\n".join(found[:20])
