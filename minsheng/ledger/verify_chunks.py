"""The CPU half of full verification, one aligned chunk of leaves at a time. Pure: no ORM, no Django,
so it runs in worker processes (forked by `verification`) on plain bytes.

The database hands a chunk over as one row of aggregates over its leaves in index order (`Chunk`:
`PG_CHUNK`, `SQLITE_CHUNK`) and the leaf bytes. `check_chunk` proves with whole-chunk operations — one
regular-expression scan over all the statements, byte-string comparisons, no Python code per leaf but
hashing it — that the indices are exactly the chunk's, every leaf is a canonical statement whose
lookup columns and actor commitment match, and every leaf hashes to its stored hash; then it hashes
every perfect node inside the chunk (chunks start at multiples of a power of two, so every node
below that level lies inside one chunk).

A chunk the bulk check does not accept (statements with strings a canonical encoder escapes, or
anything altered) is read again row by row and checked by `check_rows`. Both answer only "all as
expected" (with the level hashes) or "something differs": naming *what* differs is left to the
precise, row-by-row pass in `verification`, which runs only then. So the checks here must never
accept what the precise pass would report; they may refuse more.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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


class Chunk(NamedTuple):
    """A chunk's leaves as the database aggregated them, every part in the same (index) order. Texts the
    verifier only compares arrive as their digest (`digest`): the same answer, given the collision
    resistance the whole log rests on, for a fraction of the bytes to send."""

    indices: bytes | None  # digest of the indices b"start,start+1,…": exactly the chunk's, once each, in order
    sound: Any  # true when every leaf hash has the hash's size (hashes of other sizes could concatenate to
    # the same bytes) and, on SQLite, every column the type the precise pass reads
    hashes: bytes | None  # digest of the stored leaf hashes, concatenated
    lookups: bytes | None  # digest of the lookup columns rendered as a statement writes them (the two pieces
    # `_STATEMENTS` captures, joined by a tab), one line per leaf
    salts: bytes | None  # b"index:salt hex:actor id" per leaf with a salt, an actor and a commitment, one line each


def digest(text: bytes) -> bytes:
    """The digest `Chunk` carries for a text: SHA-256 whatever the log's hash (PostgreSQL has it built in)."""
    return hashlib.sha256(text).digest()


def indices(start: int, count: int) -> bytes:
    """`digest` of the indices [start, start + count) as the database writes them, comma-separated."""
    return digest(",".join(map(str, range(start, start + count))).encode())


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


# ---------------------------------------------------------------------------------------------
# the bulk check

# A string value: no quote (controls and backslashes are refused apart, see _ESCAPED). Possessive: a
# quote always follows, so giving characters back could never match, and not keeping the way back is
# a quarter faster.
_V = rb'[^"]*+'
# One whole line per canonical statement, capturing two pieces: the lookup values as the statement
# writes them, digest value to record model (RFC 8785 sorts the keys), and, after the time (which has
# no column), the type. A string stops at the next quote, so this is one linear scan; as many matches
# as lines means every line is exactly one statement, since a match spans at least a line.
_STATEMENTS = re.compile(
    rb'^\{"actor":\{"commitment":"' + _V + rb'","role":"' + _V + rb'"\},"digest":\{"alg":"' + _V
    + rb'","value":("' + _V + rb'"\},"project":"' + _V + rb'","record":\{"id":"' + _V + rb'","model":"' + _V
    + rb'")\},"time":"' + _V + rb'","type":("' + _V + rb'"),"v":1\}$',
    re.MULTILINE,
).findall
_lookups = operator.itemgetter(0)
# Bytes a canonical string never holds raw: RFC 8785 escapes controls (the newline too), and a backslash
# starts an escape, whose decoded value the lookup columns would hold.
_ESCAPED = bytes(range(0x20)) + b"\\"
_COMMITMENT = len(b'{"actor":{"commitment":"')


@functools.lru_cache(maxsize=8)
def _registered(models: frozenset[str]) -> re.Pattern[bytes]:
    return re.compile(rb',"model":"(?:' + b"|".join(re.escape(m.encode()) for m in sorted(models)) + rb')"\t')


def _utf8(text: bytes) -> bool:
    if text.isascii():
        return True
    try:
        text.decode()
    except UnicodeDecodeError:
        return False
    return True


def check_chunk(
    chunk: Chunk, datas: list[bytes], start: int, count: int, alg: str, registered: frozenset[str],
    joined: bytes | None = None,
) -> ChunkResult:
    """Check leaves [start, start+count) — `datas`, their bytes in index order; `joined`, the same
    joined by newlines if the caller has it — against their aggregates, all at once (see the module
    docstring)."""
    new = _new(alg)
    if chunk.indices != indices(start, count) or len(datas) != count:
        return ChunkResult(start, False, "indices")
    # Every leaf exactly one canonical statement: nothing that an encoder escapes (no newline but the
    # count - 1 that join the leaves into lines), valid UTF-8, and every line a statement frame with
    # quote-free strings between the keys.
    leaves = b"\n".join(datas) if joined is None else joined
    if len(leaves.translate(None, _ESCAPED)) != len(leaves) - (count - 1) or not _utf8(leaves):
        return ChunkResult(start, False, "statements")
    rows = _STATEMENTS(leaves)
    if len(rows) != count:
        return ChunkResult(start, False, "statements")
    # Lookup columns = the statements' fields. The statements' strings hold no quote, backslash, tab or
    # newline: so the texts are equal only if every row's columns are its statement's — a column holding
    # one would add one (or its escape), and the fixed text between pins each column to its field.
    lookups = b"\n".join(map(b"\t".join, rows))
    if digest(lookups) != chunk.lookups:
        return ChunkResult(start, False, "lookup columns")
    zero = b"\x00"
    level = b"".join([new(zero + d).digest() for d in datas])
    if not chunk.sound or digest(level) != chunk.hashes:
        return ChunkResult(start, False, "leaf hash")
    try:
        for line in chunk.salts.split(b"\n") if chunk.salts else ():
            index, salt, actor = line.split(b":")
            i = int(index) - start
            if not 0 <= i < count:
                return ChunkResult(start, False, "salt")
            data = datas[i]
            commitment = data[_COMMITMENT : data.index(b'"', _COMMITMENT)]
            if commitment and new(bytes.fromhex(salt.decode()) + actor).hexdigest().encode() != commitment:
                return ChunkResult(start, False, f"salt #{start + i}")
    except ValueError:
        return ChunkResult(start, False, "salt")
    # Records to re-digest: the rows whose model is registered, found in the lookups text (the model is
    # the only field followed by a tab); their line numbers counted along the way.
    refs: list[tuple[str, int, str, str]] = []
    line, at = 0, 0
    for m in _registered(registered).finditer(lookups) if registered else ():
        line, at = line + lookups.count(b"\n", at, m.start()), m.start()
        p = rows[line][0].split(b'"')  # digest at 1, id at 11, model at 15
        refs.append((p[15].decode(), start + line, p[11].decode(), p[1].decode()))
    return _finish(start, level, new, refs)


def check_rows(rows: list[tuple], start: int, count: int, alg: str, registered: frozenset[str]) -> ChunkResult:
    """Row by row, for a chunk the bulk check did not accept. `rows`: (index, data, leaf hash, kind,
    project code, record model, record id, digest, salt, actor id) as the database driver returns them."""
    new = _new(alg)
    if [row[0] for row in rows] != list(range(start, start + count)):
        return ChunkResult(start, False, "indices")
    hashes: list[bytes] = []
    refs: list[tuple[str, int, str, str]] = []
    for index, data, leaf_hash, *columns, salt, actor in rows:
        if not isinstance(data, bytes) or not all(isinstance(c, str) for c in columns):
            return ChunkResult(start, False, f"types #{index}")
        h = new(b"\x00" + data).digest()
        if h != bytes(leaf_hash):
            return ChunkResult(start, False, f"leaf hash #{index}")
        hashes.append(h)
        s = _statement_fields(data)
        if s is None or tuple(c.encode() for c in columns) != s[:5]:
            return ChunkResult(start, False, f"statement #{index}")
        if s[5] and salt is not None and actor is not None:
            if new(bytes(salt) + str(actor).encode()).hexdigest().encode() != s[5]:
                return ChunkResult(start, False, f"salt #{index}")
        if columns[2] in registered:
            refs.append((columns[2], index, columns[3], columns[4]))
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


# One row per chunk. The salt is read only for leaves whose statement does not start as one with an
# empty commitment does (two byte comparisons): the check compares no other; a scalar subquery, so a
# primary-key probe each whatever the statistics (a join planned on stale statistics hashed each chunk
# and sorted it on disk). The aggregates see the rows in the subquery's index order; were they not,
# the leaf hashes would not build the stored nodes.
_NO_COMMITMENT = b'{"actor":{"commitment":""'
_CHUNK = """
SELECT {indices}, {sound}, {hashes}, {lookups}, {salts}{leaves}
FROM (SELECT l."index" AS i, l.leaf_hash AS h, l.data AS d, l.digest, l.project_code, l.record_id,
             l.record_model, l.kind,
             CASE WHEN l.data >= {no_commitment} AND l.data < {no_commitment_end} THEN NULL ELSE
                 (SELECT l."index" || ':' || {salt} || ':' || s.actor_id FROM ledger_actorsalt s
                  WHERE s.leaf_id = l.id AND s.actor_id IS NOT NULL)
             END AS salt
      FROM ledger_leaf l WHERE l.log_id = %s AND l."index" >= %s AND l."index" < %s ORDER BY l."index") AS c
"""
_NO_COMMITMENT_END = _NO_COMMITMENT[:-1] + bytes([_NO_COMMITMENT[-1] + 1])
PG_CHUNK = _CHUNK.format(
    indices="sha256(convert_to(string_agg(i::text, ','), 'UTF8'))",
    sound="bool_and(octet_length(h) = %s)",
    hashes="sha256(string_agg(h, ''::bytea))",
    # The two pieces `_STATEMENTS` captures, joined by a tab: a column holding a quote adds one.
    lookups="""sha256(convert_to(string_agg('"' || digest || '"},"project":"' || project_code || '","record":{"id":"'
        || record_id || '","model":"' || record_model || E'"\\t"' || kind || '"', E'\\n'), 'UTF8'))""",
    salts="convert_to(string_agg(salt, E'\\n'), 'UTF8')",
    leaves="",
    no_commitment=f"'\\x{_NO_COMMITMENT.hex()}'::bytea",
    no_commitment_end=f"'\\x{_NO_COMMITMENT_END.hex()}'::bytea",
    salt="encode(s.salt, 'hex')",
)
# SQLite has no SHA-256: the texts come whole and `check_range` digests them (in-process, nothing to send).
# It also keeps any type in any column: JSON-quoting a lookup column refuses a blob (the precise pass reads
# bytes, not the statement's string) and leaves a number unquoted; an index that is a real number is
# written with its fraction. (Leaf bytes or hashes stored as text the precise pass cannot read at all.)
SQLITE_CHUNK = _CHUNK.format(
    indices="CAST(group_concat(i, ',') AS BLOB)",
    sound="min(length(h) = %s)",
    hashes="CAST(group_concat(h, '') AS BLOB)",
    lookups="""CAST(group_concat(json_quote(digest) || '},"project":' || json_quote(project_code) || ',"record":{"id":'
        || json_quote(record_id) || ',"model":' || json_quote(record_model) || char(9) || json_quote(kind), char(10))
        AS BLOB)""",
    salts="CAST(group_concat(salt, char(10)) AS BLOB)",
    leaves=", CAST(group_concat(d, char(10)) AS BLOB)",
    no_commitment=f"X'{_NO_COMMITMENT.hex()}'",
    no_commitment_end=f"X'{_NO_COMMITMENT_END.hex()}'",
    salt="lower(hex(s.salt))",
).replace("%s", "?")
_ROWS = (
    'SELECT l."index", l.data, l.leaf_hash, l.kind, l.project_code, l.record_model, l.record_id, l.digest, '
    "(SELECT s.salt FROM ledger_actorsalt s WHERE s.leaf_id = l.id), "
    "(SELECT s.actor_id FROM ledger_actorsalt s WHERE s.leaf_id = l.id) "
    'FROM ledger_leaf l WHERE l.log_id = %s AND l."index" >= %s AND l."index" < %s ORDER BY l."index"'
)


# The leaves themselves come as plain rows: cheaper for PostgreSQL to send than one aggregate of them.
PG_LEAVES = (
    'SELECT l.data FROM ledger_leaf l WHERE l.log_id = %s AND l."index" >= %s AND l."index" < %s ORDER BY l."index"'
)


def check_range(
    cursor: Any, vendor: str, log_id: int, start: int, count: int, alg: str, registered: frozenset[str]
) -> ChunkResult:
    """Read leaves [start, start+count) through `cursor` (a psycopg cursor: binary results; or an
    sqlite3 cursor) and check them: in bulk, and row by row when the bulk check does not accept them.
    PostgreSQL: the caller holds one snapshot for all the queries (REPEATABLE READ)."""
    params = [log_id, start, start + count]
    width = _new(alg)().digest_size
    if vendor == "postgresql":
        import psycopg
        from psycopg.rows import scalar_row

        cursor.execute(PG_CHUNK, [width, *params], binary=True)
        chunk = Chunk(*cursor.fetchone())
        with psycopg.Cursor(cursor.connection, row_factory=scalar_row) as leaves:
            leaves.execute(PG_LEAVES, params, binary=True)
            datas = leaves.fetchall()
    else:
        cursor.execute(SQLITE_CHUNK, [width, *params])
        *row, leaves = cursor.fetchone()
        chunk = Chunk(*row)
        chunk = chunk._replace(**{k: digest(getattr(chunk, k) or b"") for k in ("indices", "hashes", "lookups")})
        leaves = leaves or b""
        datas = leaves.split(b"\n")
    result = check_chunk(chunk, datas, start, count, alg, registered, None if vendor == "postgresql" else leaves)
    if result.ok:
        return result
    cursor.execute(_ROWS if vendor == "postgresql" else _ROWS.replace("%s", "?"), params)
    return check_rows(cursor.fetchall(), start, count, alg, registered)


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
    """In a worker: `check_range` with the worker's own connection (PostgreSQL: inside the verifier's
    exported snapshot)."""
    try:
        conn = _worker_connection(db)
        if db["vendor"] == "postgresql":
            from psycopg import sql

            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if db.get("snapshot"):
                    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(db["snapshot"])))
                with conn.cursor() as cur:
                    return check_range(cur, "postgresql", log_id, start, count, alg, registered)
        return check_range(conn.cursor(), "sqlite", log_id, start, count, alg, registered)
    except Exception as exc:  # any read failure (e.g. text that is not UTF-8) means "look closer"
        return ChunkResult(start, False, f"read: {exc}")
