"""The merge routine, without a database; its schema-derived constants are checked against the schema."""

from __future__ import annotations

from typing import Any

from minsheng.procurement.ocds import merge
from minsheng.procurement.ocds.tests.ocds_schema import load


def _release(n: int, **body: Any) -> dict[str, Any]:
    return {"ocid": "ocds-x-1", "id": f"ocds-x-1-{n}", "date": f"2026-01-0{n}T00:00:00+08:00", "tag": ["tender"],
            "initiationType": "tender", **body}


def _marked(node: Any, mark: str, key: str = "", out: set[str] | None = None) -> set[str]:
    out = set() if out is None else out
    if isinstance(node, dict):
        if node.get(mark):
            out.add(key)
        for k, v in node.items():
            _marked(v, mark, k, out)
    elif isinstance(node, list):
        for v in node:
            _marked(v, mark, key, out)
    return out


def test_merge_constants_match_the_schema():
    schema = load("release-schema.json")
    assert _marked(schema, "wholeListMerge") == merge.WHOLE_LIST_MERGE
    assert _marked(schema["properties"], "omitWhenMerged") == merge.OMIT_WHEN_MERGED


def test_latest_value_wins_and_omitted_fields_are_dropped():
    compiled = merge.compile_releases([
        _release(1, tender={"id": "T", "status": "active", "title": "A"}),
        _release(2, tender={"id": "T", "status": "complete"}),
    ])
    assert compiled["tender"] == {"id": "T", "status": "complete", "title": "A"}
    assert compiled["tag"] == ["compiled"] and compiled["date"] == "2026-01-02T00:00:00+08:00"
    assert compiled["id"] != "ocds-x-1-2"


def test_arrays_of_objects_merge_by_id_and_keep_removed_items():
    compiled = merge.compile_releases([
        _release(1, awards=[{"id": "a1", "status": "pending", "value": {"amount": 1}}]),
        _release(2, awards=[{"id": "a1", "status": "active"}, {"id": "a2", "status": "pending"}]),
        _release(3, awards=[{"id": "a2", "status": "cancelled"}]),
    ])
    assert compiled["awards"] == [
        {"id": "a1", "status": "active", "value": {"amount": 1}},
        {"id": "a2", "status": "cancelled"},
    ]


def test_null_removes_and_whole_list_merge_and_plain_arrays_replace():
    compiled = merge.compile_releases([
        _release(1, tender={"id": "T", "description": "x", "submissionMethod": ["written", "inPerson"]},
                 parties=[{"id": "p", "additionalIdentifiers": [{"id": "1"}, {"id": "2"}], "roles": ["buyer"]}]),
        _release(2, tender={"id": "T", "description": None, "submissionMethod": ["electronicSubmission"]},
                 parties=[{"id": "p", "additionalIdentifiers": [{"id": "3"}], "roles": ["payer"]}]),
    ])
    assert compiled["tender"] == {"id": "T", "submissionMethod": ["electronicSubmission"]}
    assert compiled["parties"] == [{"id": "p", "additionalIdentifiers": [{"id": "3"}], "roles": ["payer"]}]
