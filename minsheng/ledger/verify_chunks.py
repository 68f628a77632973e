"""The CPU half of full verification, one aligned chunk of leaves at a time. Pure: no ORM, no Django,
so it runs in worker processes (forked by `verification`) on plain bytes.

A chunk arrives as the database rendered it: one line per leaf, tab-separated
``index, data, leaf hash (hex), kind, project, model, id, digest, salt (hex), actor id`` — PostgreSQL's
COPY text format (``\\N`` for NULL, backslash escapes), or the same fields concatenated raw by SQLite.
`check_chunk` hashes every leaf, re-checks that it is a canonical statement whose lookup columns and
actor commitment match, and hashes every perfect node inside the chunk (chunks start at multiples of
a power of two, so every node below that level lies inside one chunk).

It answers only "all as expected" (with the level hashes) or "something differs": naming *what*
differs is left to the precise, row-by-row pass in `verification`, which runs only then. So the
checks here must never accept what the precise pass would report; they may refuse more.
"""

from __future__ import annotations

import hashlib
import operator
import re
from dataclasses import dataclass, field
from typing import Any

# Canonical statements, split on '"' when no string needs an escape: the keys and punctuation
# between the strings are fixed (RFC 8785 sorts the keys), the strings are the values.
_SAMPLE = (
    b'{"actor":{"commitment":"","role":""},"digest":{"alg":"","value":""},"project":"",'
    b'"record":{"id":"","model":""},"time":"","type":"","v":1}'
).split(b'"')
_VALUES = (41, 23, 33, 29, 19, 5)  # type, project, model, id, digest, commitment
_KEY_POS = [i for i in range(1, len(_SAMPLE), 2) if i not in (*_VALUES, 9, 15, 37)]  # 9 role, 15 alg, 37 time
_keys = operator.itemgetter(*_KEY_POS)
_values = operator.itemgetter(*_VALUES)
KEYS = _keys(_SAMPLE)
SKELETON = _SAMPLE[0::2]
_PARTS = len(_SAMPLE)
# Anything a canonical string would escape (controls, backslash) or that is not plain ASCII.
_UNSAFE = re.compile(rb"[\x00-\x1f\\\x7f-\xff]").search


@dataclass
class ChunkResult:
    start: int
    ok: bool
    why: str = ""
    levels: list[bytes] = field(default_factory=list)  # levels[l]: the chunk's level-l hashes, concatenated
    refs: list[tuple[str, int, str, str]] = field(default_factory=list)  # (model, index, id, digest)


def _statement_fields(data: bytes) -> tuple[bytes, ...] | None:
    """[type, project, model, id, digest, commitment] of a canonical statement, else None."""
    if _UNSAFE(data) is None:
        parts = data.split(b'"')
        if len(parts) == _PARTS and parts[0::2] == SKELETON and _keys(parts) == KEYS:
            return _values(parts)
        return None
    # Escaped or non-ASCII strings: the full canonical parser decides (rare).
    from minsheng.ledger import canonical

    try:
        s = canonical.parse(data)
    except canonical.StatementError:
        return None
    return tuple(
        x.encode() for x in (s.kind, s.project_code, s.record_model, s.record_id, s.digest, s.actor_commitment)
    )


def _new(alg: str):
    if alg == "sha256":
        return hashlib.sha256
    return lambda data=b"": hashlib.new("sm3", data)


# Control characters other than the tab and newline that delimit fields (inside a field these would
# have split it, or PostgreSQL escaped them with a backslash).
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])
# One statement followed by its separator; groups: the statement, commitment, digest, project, id,
# model, type. Values hold no '"' (so no escapes either, checked apart). Matches that add up to the
# whole text tile it, so each is exactly one leaf.
_V, _W = rb'([^"\t]*)', rb'[^"\t]*'
_STATEMENTS = re.compile(
    rb'(\{"actor":\{"commitment":"' + _V + rb'","role":"' + _W + rb'"\},"digest":\{"alg":"' + _W
    + rb'","value":"' + _V + rb'"\},"project":"' + _V + rb'","record":\{"id":"' + _V + rb'","model":"' + _V
    + rb'"\},"time":"' + _W + rb'","type":"' + _V + rb'","v":1\})(?:\t|\Z)'
).findall
_COPY_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_COPY_CHARS = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
NULL = b"\\N"
FIELDS = 10  # index, data, leaf hash (hex), kind, project, model, id, digest, salt (hex) or NULL, actor or NULL


def _copy_unescape(value: bytes) -> bytes:
    """A field of PostgreSQL's COPY text format back to its bytes."""
    if b"\\" not in value:
        return value

    def sub(m: re.Match[bytes]) -> bytes:
        if m.group(1):
            return bytes([int(m.group(1), 8) & 0xFF])
        if m.group(2):
            return bytes([int(m.group(2), 16)])
        return _COPY_CHARS.get(m.group(3), m.group(3))

    return _COPY_ESCAPE.sub(sub, value)


def check_chunk(
    blob: bytes, start: int, count: int, escaped: bool, alg: str, registered: frozenset[str]
) -> ChunkResult:
    """Check leaves [start, start+count): `blob` holds one line per leaf, tab-separated FIELDS, in
    PostgreSQL's COPY text format (`escaped`) or raw (SQLite, where any tab or newline inside a
    field makes the chunk fail and the precise pass run). Whole-chunk list operations first; a
    chunk with anything unusual in it (escapes, non-canonical looking statements) is re-checked
    row by row before it is declared different."""
    new = _new(alg)
    fields = blob.replace(b"\n", b"\t").split(b"\t") if blob else []
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) != FIELDS * count:
        return ChunkResult(start, False, "row count")
    try:
        if list(map(int, fields[0::FIELDS])) != list(range(start, start + count)):
            return ChunkResult(start, False, "indices")
    except ValueError:
        return ChunkResult(start, False, "indices")
    datas = fields[1::FIELDS]
    joined = b"\t".join(datas)
    # No escapes, no control characters, and every leaf exactly the statement frame with plain
    # values: then each is its own canonical form (RFC 8785 escapes nothing else).
    simple = b"\\" not in joined and len(joined.translate(None, _CONTROL_BYTES)) == len(joined)
    if simple:
        rows = _STATEMENTS(joined)
        simple = len(rows) == count
    if simple:
        whole, commitments, digests, projects, ids, models, kinds = zip(*rows, strict=True)
        simple = sum(map(len, whole)) + count - 1 == len(joined)
        simple = (
            simple
            and kinds == tuple(fields[3::FIELDS])
            and projects == tuple(fields[4::FIELDS])
            and models == tuple(fields[5::FIELDS])
            and ids == tuple(fields[6::FIELDS])
            and digests == tuple(fields[7::FIELDS])
        )
    if not simple:
        return _check_rows(fields, start, count, escaped, new, registered)
    zero = b"\x00"
    hashes = [new(zero + d).digest() for d in datas]
    level = b"".join(hashes)
    if level.hex().encode() != b"".join(fields[2::FIELDS]).lower():
        return ChunkResult(start, False, "leaf hash")
    refs: list[tuple[str, int, str, str]] = []
    salts = fields[8::FIELDS]
    for i, salt in enumerate(salts):
        if salt != NULL and commitments[i]:
            actor = fields[FIELDS * i + 9]
            if actor != NULL and new(bytes.fromhex(salt.decode()) + actor).hexdigest().encode() != commitments[i]:
                return ChunkResult(start, False, f"salt #{start + i}")
    if registered:
        for i, model in enumerate(models):
            if model.decode() in registered:
                refs.append((model.decode(), start + i, ids[i].decode(), digests[i].decode()))
    return _finish(start, level, new, refs)


def _check_rows(fields, start, count, escaped, new, registered) -> ChunkResult:
    unescape = _copy_unescape if escaped else (lambda v: v)
    hashes: list[bytes] = []
    refs: list[tuple[str, int, str, str]] = []
    for i in range(count):
        f = [unescape(v) for v in fields[FIELDS * i : FIELDS * (i + 1)]]
        index = start + i
        data = f[1]
        h = new(b"\x00" + data).digest()
        if h.hex().encode() != f[2].lower():
            return ChunkResult(start, False, f"leaf hash #{index}")
        hashes.append(h)
        s = _statement_fields(data)
        if s is None or tuple(f[3:8]) != s[:5]:
            return ChunkResult(start, False, f"statement #{index}")
        if s[5] and fields[FIELDS * i + 8] != NULL and fields[FIELDS * i + 9] != NULL:
            if new(bytes.fromhex(f[8].decode()) + f[9]).hexdigest().encode() != s[5]:
                return ChunkResult(start, False, f"salt #{index}")
        if registered and s[2].decode() in registered:
            refs.append((s[2].decode(), index, s[3].decode(), s[4].decode()))
    return _finish(start, b"".join(hashes), new, refs)


def _finish(start: int, level: bytes, new, refs) -> ChunkResult:
    """Every perfect node inside the chunk, level by level."""
    levels = [level]
    one = b"\x01"
    while len(level) >= 64:
        level = b"".join([new(one + level[i : i + 64]).digest() for i in range(0, len(level) - 63, 64)])
        levels.append(level)
    return ChunkResult(start, True, levels=levels, refs=refs)


# ---------------------------------------------------------------------------------------------
# reading a chunk (in the verifying process, or in a worker with its own connection)

# The salt columns are scalar subqueries (a primary-key probe each), not a join: whatever the statistics,
# the leaves then come straight off the (log, index) index in order. A LEFT JOIN planned on stale
# statistics hashed the chunk and sorted it on disk (340 → 255 ms per 32,768 leaves).
PG_CHUNK = (
    "COPY (SELECT l.\"index\", convert_from(l.data, 'UTF8'), encode(l.leaf_hash, 'hex'), l.kind, l.project_code, "
    "l.record_model, l.record_id, l.digest, "
    "(SELECT encode(s.salt, 'hex') FROM ledger_actorsalt s WHERE s.leaf_id = l.id), "
    "(SELECT s.actor_id FROM ledger_actorsalt s WHERE s.leaf_id = l.id) "
    'FROM ledger_leaf l WHERE l.log_id = %s AND l."index" >= %s AND l."index" < %s ORDER BY l."index") TO STDOUT'
)
SQLITE_CHUNK = (
    "SELECT group_concat(line, char(10)) FROM (SELECT l.\"index\" || char(9) || CAST(l.data AS TEXT) || char(9) "
    "|| lower(hex(l.leaf_hash)) || char(9) || l.kind || char(9) || l.project_code || char(9) || l.record_model "
    "|| char(9) || l.record_id || char(9) || l.digest || char(9) || coalesce(lower(hex(s.salt)), '\\N') "
    "|| char(9) || coalesce(s.actor_id, '\\N') AS line "
    "FROM ledger_leaf l LEFT JOIN ledger_actorsalt s ON s.leaf_id = l.id "
    'WHERE l.log_id = %s AND l."index" >= %s AND l."index" < %s ORDER BY l."index")'
)


def read_pg(cursor: Any, log_id: int, start: int, end: int) -> bytes:
    """COPY text of leaves [start, end) through a psycopg cursor."""
    with cursor.copy(PG_CHUNK, [log_id, start, end]) as copy:
        return b"".join(copy)


_connection: Any = None


def _worker_connection(db: dict[str, Any]) -> Any:
    global _connection  # one connection per worker process, reused across chunks
    if _connection is None:
        if db["vendor"] == "postgresql":
            import psycopg

            _connection = psycopg.connect(**db["params"])
        else:
            import sqlite3

            _connection = sqlite3.connect(f"file:{db['path']}?mode=ro", uri=True)
    return _connection


def read_and_check(
    db: dict[str, Any], log_id: int, start: int, count: int, alg: str, registered: frozenset[str]
) -> ChunkResult:
    """In a worker: read leaves [start, start+count) with the worker's own connection (PostgreSQL:
    inside the verifier's exported snapshot), then `check_chunk` them."""
    try:
        conn = _worker_connection(db)
        if db["vendor"] == "postgresql":
            from psycopg import sql

            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if db.get("snapshot"):
                    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(db["snapshot"])))
                with conn.cursor() as cur:
                    blob, escaped = read_pg(cur, log_id, start, start + count), True
        else:
            row = conn.execute(SQLITE_CHUNK.replace("%s", "?"), (log_id, start, start + count)).fetchone()
            blob, escaped = (row[0] or "").encode(), False
    except Exception as exc:  # any read failure (e.g. leaf bytes not UTF-8) means "look closer"
        return ChunkResult(start, False, f"read: {exc}")
    return check_chunk(blob, start, count, escaped, alg, registered)


def check_chunk_args(args: tuple[Any, ...]) -> ChunkResult:
    return check_chunk(*args)
