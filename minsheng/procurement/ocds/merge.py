"""The OCDS 1.1 merge routine: compile a process's releases into its current state (the compiledRelease).

Rules (OCDS 1.1 "Merging"): releases are applied oldest first; a field's latest value wins; `null` removes a
field; objects merge field by field; an array of objects that all carry an `id` merges item by item on `id`
(new ids are appended in order), unless the field is marked `wholeListMerge`; any other array is replaced whole.
The fields marked `omitWhenMerged` (a release's own id, date and tag) are dropped, and the compiled release gets
its own id, the latest date and the tag `compiled`. `WHOLE_LIST_MERGE` and `OMIT_WHEN_MERGED` are read off
release-schema.json 1.1.5 (a test checks them against it).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

WHOLE_LIST_MERGE = frozenset({"additionalIdentifiers", "additionalClassifications"})
OMIT_WHEN_MERGED = frozenset({"id", "date", "tag"})


def _identifiable(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "id" in i for i in items)


def _merge_value(key: str, old: Any, new: Any) -> Any:
    if isinstance(new, dict):
        return _merge_object(old if isinstance(old, dict) else {}, new)
    if isinstance(new, list) and key not in WHOLE_LIST_MERGE and _identifiable(new) and (
        old is None or (isinstance(old, list) and (not old or _identifiable(old)))
    ):
        merged: dict[Any, Any] = {i["id"]: i for i in (old or [])}
        for item in new:
            merged[item["id"]] = _merge_object(merged.get(item["id"], {}), item)
        return list(merged.values())
    return copy.deepcopy(new)


def _merge_object(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for key, value in new.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_value(key, out.get(key), value)
    return out


def compile_releases(releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one process's releases (given in date order)."""
    compiled: dict[str, Any] = {}
    last_date = None
    ocid = None
    for release in releases:
        ocid = release["ocid"]
        last_date = release["date"]
        body = {k: v for k, v in release.items() if k not in OMIT_WHEN_MERGED}
        compiled = _merge_object(compiled, body)
    if ocid is None:
        raise ValueError("no releases to compile")
    return {"ocid": ocid, "id": f"{ocid}-compiled-{last_date}", "date": last_date, "tag": ["compiled"],
            **{k: v for k, v in compiled.items() if k != "ocid"}}
