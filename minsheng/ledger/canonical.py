"""Evidence statements and their canonical bytes (RFC 8785 JSON Canonicalization Scheme).

A leaf is exactly `statement_bytes(statement)`: the same statement always gives the same bytes, on
every machine, so anyone can re-derive the leaf from the decoded statement. Pure: no ORM.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import rfc8785

VERSION = 1
_HEX = re.compile(r"^[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,47}$")
_MODEL = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


class StatementError(ValueError):
    """The statement is malformed."""


@dataclass(frozen=True)
class Statement:
    kind: str  # e.g. "stage_transition", "gate_approval", "document", "disbursement"
    project_code: str
    record_model: str  # app_label.model_name
    record_id: str
    digest_alg: str  # "sha256" or "sm3"
    digest: str  # hex
    actor_role: str
    actor_commitment: str  # hex H(salt ‖ actor id); "" when no person acted
    time: str  # RFC 3339, UTC, microseconds, "Z"

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "type": self.kind,
            "project": self.project_code,
            "record": {"model": self.record_model, "id": self.record_id},
            "digest": {"alg": self.digest_alg, "value": self.digest},
            "actor": {"role": self.actor_role, "commitment": self.actor_commitment},
            "time": self.time,
        }


def format_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise StatementError("statement time must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of any JSON value (used for leaves and for digests of records)."""
    return rfc8785.dumps(value)


def statement_json(value: dict[str, Any]) -> bytes:
    """RFC 8785 for statements, fast: a statement holds only ASCII keys, strings and the integer 1,
    and for those values compact key-sorted JSON without ASCII escaping is byte-identical to RFC 8785
    (same escapes: \\" \\\\ \\b \\f \\n \\r \\t and lowercase \\u00xx for other controls). A property test
    checks the identity against the `rfc8785` package; the general `canonical` stays for records."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def statement_bytes(statement: Statement) -> bytes:
    validate(statement)
    return statement_json(statement.as_dict())


def validate(s: Statement) -> None:
    problems = []
    if not _KIND.match(s.kind):
        problems.append("type")
    if not s.project_code or len(s.project_code) > 24:
        problems.append("project")
    if not _MODEL.match(s.record_model) or not s.record_id or len(s.record_id) > 64:
        problems.append("record")
    if s.digest_alg not in ("sha256", "sm3") or not _HEX.match(s.digest):
        problems.append("digest")
    if len(s.actor_role) > 32 or (s.actor_commitment and not _HEX.match(s.actor_commitment)):
        problems.append("actor")
    if not _TIME.fullmatch(s.time):
        problems.append("time")
    if problems:
        raise StatementError("malformed statement: " + ", ".join(problems))


def parse(leaf: bytes) -> Statement:
    """Decode leaf bytes; they must be exactly the canonical form of a valid statement."""
    try:
        data = json.loads(leaf.decode("utf-8"))
        if data.get("v") != VERSION or set(data) != {
            "v",
            "type",
            "project",
            "record",
            "digest",
            "actor",
            "time",
        }:
            raise StatementError("unknown statement version or fields")
        s = Statement(
            kind=data["type"],
            project_code=data["project"],
            record_model=data["record"]["model"],
            record_id=data["record"]["id"],
            digest_alg=data["digest"]["alg"],
            digest=data["digest"]["value"],
            actor_role=data["actor"]["role"],
            actor_commitment=data["actor"]["commitment"],
            time=data["time"],
        )
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise StatementError(f"leaf is not a statement: {exc}") from None
    if statement_bytes(s) != leaf:
        raise StatementError("leaf is not in canonical form")
    return s
