"""Full verification: a clean log verifies; altering each kind of stored row is named exactly, and
`minsheng ledger verify` exits non-zero. Rows are altered with raw SQL, as an intruder would."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection

from minsheng.accounts.roles import Role
from minsheng.core.models import Notification
from minsheng.ledger import merkle, note, services, tasks, verification, verify_chunks
from minsheng.ledger.models import Checkpoint, Leaf, Log, Node, VerificationRun
from minsheng.projects.models import Document, StageTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def grown(anchored):
    """20 entries (2 from the project, 18 more), checkpoints at sizes 2, 11 and 20."""
    code = anchored["project"].code
    services.anchor_many(
        [
            {
                "kind": "inspection",
                "project_code": code,
                "record": ("construction.inspection", str(i)),
                "digest": f"{i:064x}",
            }
            for i in range(9)
        ]
    )
    services.checkpoint_create()
    services.anchor_many(
        [
            {
                "kind": "inspection",
                "project_code": code,
                "record": ("construction.inspection", str(i)),
                "digest": f"{i:064x}",
            }
            for i in range(9, 18)
        ]
    )
    services.checkpoint_create()
    assert list(Checkpoint.objects.order_by("size").values_list("size", flat=True)) == [2, 11, 20]
    return anchored


def _sql(query: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(query, params)


def _run() -> tuple[verification.Report, int, str]:
    report = verification.verify()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("ledger", "verify", stdout=out)
    return report, exit_info.value.code, out.getvalue()


def _names(report: verification.Report) -> list[tuple]:
    fields = {
        "leaf": ("index", "other"),
        "node": ("level", "index"),
        "record": ("model", "id"),
        "checkpoint": ("size",),
        "head": (),
        "salt": ("index",),
        "cosignature": ("size", "witness"),
    }
    return [(p["what"], *[p[k] for k in fields[p["what"]] if k in p]) for p in report.problems]


def test_an_untouched_log_verifies(grown):
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert out.getvalue().strip().endswith("OK")
    run = VerificationRun.objects.first()
    assert run.ok and run.size == 20 and run.finished_at


def _leaf_id(index: int) -> int:
    return Leaf.objects.get(index=index).pk


def test_altered_leaf_bytes_are_named(grown):
    data = bytes(Leaf.objects.get(index=5).data).replace(b'"inspection"', b'"inspectiom"')
    _sql("UPDATE ledger_leaf SET data = %s WHERE id = %s", [data, _leaf_id(5)])
    report, code, out = _run()
    assert _names(report) == [("leaf", 5)]
    assert code == 1 and "leaf #5" in out
    assert any(c["what"] == "checkpoint" for c in report.consequences)


def test_altered_leaf_hash_is_named(grown):
    _sql("UPDATE ledger_leaf SET leaf_hash = %s WHERE id = %s", [b"\x00" * 32, _leaf_id(7)])
    report, code, _out = _run()
    assert _names(report) == [("leaf", 7)] and code == 1


def test_altered_node_is_named(grown):
    node = Node.objects.get(level=2, index=1)
    _sql("UPDATE ledger_node SET hash = %s WHERE id = %s", [b"\x01" * 32, node.pk])
    report, code, out = _run()
    assert _names(report) == [("node", 2, 1)]
    assert code == 1 and "node (2, 1)" in out


def test_altered_head_is_named(grown):
    _sql("UPDATE ledger_log SET root = %s", [b"\x02" * 32])
    report, code, _out = _run()
    assert _names(report) == [("head",)] and code == 1


def test_altered_checkpoint_signature_is_named(grown):
    cp = Checkpoint.objects.get(size=11)
    body, sig = cp.note.split("\n\n")
    forged = body + "\n\n" + sig[:-6] + ("AAAA==" if not sig.endswith("AAAA==\n") else "BBBB==") + "\n"
    _sql("UPDATE ledger_checkpoint SET note = %s WHERE id = %s", [forged.rstrip("\n") + "\n", cp.pk])
    report, code, _out = _run()
    assert _names(report) == [("checkpoint", 11)] and code == 1


def test_altered_checkpoint_root_is_named(grown, signer):
    # Even a re-signed checkpoint (stolen key) with a wrong root is caught against the recomputed tree.
    cp = Checkpoint.objects.get(size=11)
    body = note.Checkpoint(signer.name, 11, b"\x03" * 32).body
    _sql(
        "UPDATE ledger_checkpoint SET note = %s, root = %s WHERE id = %s",
        [note.sign_note(body, signer), b"\x03" * 32, cp.pk],
    )
    report, code, _out = _run()
    assert _names(report) == [("checkpoint", 11)] and code == 1
    cp2 = Checkpoint.objects.get(size=20)
    _sql("UPDATE ledger_checkpoint SET root = %s WHERE id = %s", [b"\x04" * 32, cp2.pk])
    report, _code, _out = _run()
    assert ("checkpoint", 20) in _names(report)


def test_altered_record_content_is_named(grown):
    t = StageTransition.objects.get()
    _sql("UPDATE projects_stagetransition SET to_stage = %s WHERE id = %s", ["construction", t.pk])
    report, code, out = _run()
    assert _names(report) == [("record", "projects.stagetransition", str(t.pk))] and code == 1
    assert f"projects.stagetransition #{t.pk}" in out


def test_records_the_bulk_pass_finds_are_named_with_their_leaves(grown):
    t = StageTransition.objects.get()
    first = Leaf.objects.get(record_model="projects.stagetransition").index
    services.anchor(kind="stage_transition_copy", project_code=grown["project"].code, record=t)  # leaf #20
    _sql("UPDATE projects_stagetransition SET to_stage = %s WHERE id = %s", ["construction", t.pk])
    report = verification.verify()
    assert report.fast and report.records_checked == 3
    assert sorted(p["index"] for p in report.problems) == [first, 20]


def test_replaced_document_file_is_named(grown):
    doc = Document.objects.get()
    with doc.file.storage.open(doc.file.name, "wb") as fh:
        fh.write(b"%PDF-1.7 forged")
    report, code, _out = _run()
    assert _names(report) == [("record", "projects.document", str(doc.pk))] and code == 1


def test_deleted_leaf_is_named(grown):
    _sql("DELETE FROM ledger_leaf WHERE id = %s", [_leaf_id(9)])
    report, code, _out = _run()
    assert _names(report) == [("leaf", 9)] and "missing" in report.problems[0]["message"] and code == 1


def test_deleted_last_leaf_is_named(grown):
    _sql("DELETE FROM ledger_leaf WHERE id = %s", [_leaf_id(19)])
    report, _code, _out = _run()
    assert _names(report) == [("leaf", 19)]


@pytest.mark.parametrize(("a", "b"), [(4, 13), (6, 7)])
def test_two_swapped_leaves_are_named(grown, a, b):
    ia, ib = _leaf_id(a), _leaf_id(b)
    _sql('UPDATE ledger_leaf SET "index" = %s WHERE id = %s', [-1, ia])
    _sql('UPDATE ledger_leaf SET "index" = %s WHERE id = %s', [a, ib])
    _sql('UPDATE ledger_leaf SET "index" = %s WHERE id = %s', [b, ia])
    report, code, out = _run()
    assert _names(report) == [("leaf", a, b)] and code == 1
    assert f"leaves #{a} and #{b} were swapped" in out


def test_the_nightly_task_alerts_administrators_on_failure(grown, org):
    assert tasks.verify_log.call() is True
    _sql("UPDATE ledger_log SET root = %s", [b"\x02" * 32])
    assert tasks.verify_log.call() is False
    admins = [u for u in org.users.values() if u.role == Role.SYSADMIN]
    assert admins and all(
        Notification.objects.filter(recipient=u, kind="ledger.verify_failed").exists() for u in admins
    )


def test_a_tampered_head_is_never_signed(grown):
    services.anchor(
        kind="inspection", project_code="P", record=("construction.inspection", "x"), digest="ee" * 32
    )
    _sql("UPDATE ledger_log SET root = %s", [b"\x02" * 32])
    from minsheng.core.errors import Conflict

    with pytest.raises(Conflict):
        services.checkpoint_create()
    assert Checkpoint.objects.filter(log=Log.objects.get()).count() == 3


@pytest.mark.parametrize("workers", [0, 2])
def test_a_clean_log_is_verified_by_the_bulk_pass(grown, workers):
    report = verification.verify(workers=workers)
    assert report.ok and report.fast and report.leaves == 20
    assert report.records_checked == 2 and report.records_unregistered == 18


@pytest.mark.parametrize("workers", [0, 2])
def test_escaped_and_non_ascii_statements_pass_the_bulk_pass(grown, workers):
    # Values a canonical statement writes with escapes or as UTF-8 take the row-by-row branch of a
    # chunk, and still verify; actor salts are checked there too.
    services.anchor_many(
        [
            {"kind": "inspection", "project_code": "项目-甲", "record": ("construction.inspection", "q\"1"),
             "digest": "ab" * 32, "actor": grown["project"].pk},
            {"kind": "inspection", "project_code": "P\\2", "record": ("construction.inspection", "2"),
             "digest": "cd" * 32},
        ]
    )
    report = verification.verify(workers=workers)
    assert report.ok and report.fast and report.leaves == 22 and report.records_checked == 2
    # A tab inside a value (escaped in the statement, raw in the lookup column): row by row too.
    services.anchor(kind="inspection", project_code="P", record=("construction.inspection", "t\t3"), digest="ef" * 32)
    report = verification.verify(workers=workers)
    assert report.ok and report.fast and report.leaves == 23


def test_non_ascii_strings_are_checked_in_bulk(grown, monkeypatch):
    services.anchor(
        kind="inspection", project_code="项目-甲", record=("construction.inspection", "乙"), digest="ab" * 32
    )
    monkeypatch.setattr(verify_chunks, "check_rows", lambda *args: pytest.fail("checked row by row"))
    report = verification.verify(workers=0)
    assert report.ok and report.fast and report.leaves == 21


def test_a_tampered_log_takes_the_precise_pass(grown):
    _sql("UPDATE ledger_node SET hash = %s WHERE level = 1 AND \"index\" = 3", [b"\x05" * 32])
    report = verification.verify()
    assert not report.fast and _names(report) == [("node", 1, 3)]


def test_an_altered_actor_salt_is_named(grown):
    from minsheng.ledger.models import ActorSalt

    salt = ActorSalt.objects.select_related("leaf").first()
    _sql("UPDATE ledger_actorsalt SET salt = %s WHERE leaf_id = %s", [b"\x07" * 16, salt.leaf_id])
    report = verification.verify()
    assert not report.fast and _names(report) == [("salt", salt.leaf.index)]


# The bulk pass must refuse whatever the precise pass reports. Each test below alters the log so that
# one bulk check alone can see it (every hash left consistent, or the whole tree rewritten to match):
# without that check the bulk pass would accept the log.


def _rewrite_tree() -> None:
    """As an intruder covering an alteration would: leaf hashes, nodes and head recomputed from the
    stored leaf bytes in index order."""
    head = Log.objects.get()
    hasher = merkle.Hasher(head.hash_alg)
    cr = merkle.CompactRange(hasher)
    for pk, data in Leaf.objects.filter(log=head).order_by("index", "pk").values_list("pk", "data"):
        h = hasher.leaf(bytes(data))
        _sql("UPDATE ledger_leaf SET leaf_hash = %s WHERE id = %s", [h, pk])
        for level, index, node in cr.append(h):
            _sql('UPDATE ledger_node SET hash = %s WHERE level = %s AND "index" = %s', [node, level, index])
    _sql("UPDATE ledger_log SET root = %s, edge = %s", [cr.root(), b"".join(cr.hashes)])


def _drop_unique(table: str, *names: str) -> None:
    """Drop unique constraints, as anyone with database access can (SQLite: the table rebuilt as a copy)."""
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE", [])  # ALTER TABLE refuses while deferred checks are pending
        for name in names:
            _sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"', [])
    else:
        with connection.cursor() as cur:
            cur.execute("SELECT sql FROM sqlite_master WHERE name = %s", [table])
            create = cur.fetchone()[0]
        for name in names:
            create = re.sub(rf', CONSTRAINT "{name}" UNIQUE \([^)]*\)', "", create)
        _sql(create.replace(f'"{table}"', f'"{table}_copy"', 1), [])
        _sql(f"INSERT INTO {table}_copy SELECT * FROM {table}", [])
        _sql(f"DROP TABLE {table}", [])
        _sql(f"ALTER TABLE {table}_copy RENAME TO {table}", [])


@pytest.mark.parametrize("column", ["kind", "project_code", "record_model", "record_id", "digest"])
def test_an_altered_lookup_column_is_refused_in_bulk(grown, column):
    _sql(f"UPDATE ledger_leaf SET {column} = %s WHERE id = %s", ["x.y", _leaf_id(3)])
    report = verification.verify()
    assert not report.fast and _names(report) == [("leaf", 3)]


@pytest.mark.parametrize(
    ("old", "new"),
    [(b'"role":""', b'"role":"\\u0073"'), (b'"role":""', b'"role":"a\tb"'), (b'"role":""', b'"role":"a\nb"'),
     (b'"role":""', b'"role":"\xff"'), (b'"role":""', b'"role": ""')],
    ids=["escape", "tab", "newline", "not-utf-8", "space"],
)
def test_a_non_canonical_statement_under_a_rewritten_tree_is_refused_in_bulk(grown, old, new):
    data = bytes(Leaf.objects.get(index=5).data)
    assert old in data
    _sql("UPDATE ledger_leaf SET data = %s WHERE id = %s", [data.replace(old, new), _leaf_id(5)])
    _rewrite_tree()
    report = verification.verify()
    assert not report.fast and _names(report) == [("leaf", 5)]


def test_a_duplicated_index_standing_in_for_a_deleted_leaf_is_refused_in_bulk(grown):
    # Leaf 9 deleted and a copy of leaf 8 added (the unique constraints dropped first): as many rows,
    # the same lowest and highest index; the tree rewritten to match.
    eight, nine = _leaf_id(8), _leaf_id(9)
    _drop_unique("ledger_leaf", "ledger_leaf_index_unique", "ledger_leaf_dedupe_by_record")
    columns = 'log_id, "index", data, leaf_hash, kind, project_code, record_model, record_id, digest, created_at'
    _sql(f"INSERT INTO ledger_leaf ({columns}) SELECT {columns} FROM ledger_leaf WHERE id = %s", [eight])
    _sql("DELETE FROM ledger_leaf WHERE id = %s", [nine])
    _rewrite_tree()
    report = verification.verify()
    assert not report.fast and ("leaf", 9) in _names(report)


def test_a_duplicated_index_standing_in_for_a_deleted_node_is_refused_in_bulk(grown):
    _drop_unique("ledger_node", "ledger_node_unique")
    _sql('UPDATE ledger_node SET "index" = 2 WHERE id = %s', [Node.objects.get(level=1, index=3).pk])
    head = Log.objects.get()
    assert verification._stored_levels(head, 32) is None  # which of the two comes first is up to the database
    report = verification.verify()
    assert not report.fast and not report.ok


def test_leaf_hashes_of_other_sizes_are_refused_in_bulk(grown):
    # Leaf 4's hash one byte short, leaf 5's one byte long: concatenated, the same bytes.
    h4, h5 = (bytes(Leaf.objects.get(index=i).leaf_hash) for i in (4, 5))
    _sql("UPDATE ledger_leaf SET leaf_hash = %s WHERE id = %s", [h4[:-1], _leaf_id(4)])
    _sql("UPDATE ledger_leaf SET leaf_hash = %s WHERE id = %s", [h4[-1:] + h5, _leaf_id(5)])
    report = verification.verify()
    assert not report.fast and _names(report) == [("leaf", 4), ("leaf", 5)]


def test_node_hashes_of_other_sizes_are_refused_in_bulk(grown):
    a, b = Node.objects.get(level=1, index=2), Node.objects.get(level=1, index=3)
    _sql("UPDATE ledger_node SET hash = %s WHERE id = %s", [bytes(a.hash)[:-1], a.pk])
    _sql("UPDATE ledger_node SET hash = %s WHERE id = %s", [bytes(a.hash)[-1:] + bytes(b.hash), b.pk])
    report = verification.verify()
    assert not report.fast and _names(report) == [("node", 1, 2), ("node", 1, 3)]


def test_a_lookup_column_stored_as_a_blob_is_refused_in_bulk(grown):
    # SQLite keeps any type in any column: the same bytes as a blob, which the precise pass reads as bytes.
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL columns have one type")
    _sql("UPDATE ledger_leaf SET project_code = CAST(project_code AS BLOB) WHERE id = %s", [_leaf_id(3)])
    report = verification.verify()
    assert not report.fast and _names(report) == [("leaf", 3)]


@pytest.mark.parametrize("what", ["column", "salt"])
def test_a_chunk_checked_row_by_row_still_refuses_tampering(grown, what):
    # An escaped string sends the whole chunk row by row (check_rows); tampering elsewhere in it still shows.
    services.anchor(kind="inspection", project_code='P"1', record=("construction.inspection", "q"), digest="ab" * 32)
    if what == "column":
        _sql("UPDATE ledger_leaf SET project_code = %s WHERE id = %s", ["x", _leaf_id(3)])
        expected = [("leaf", 3)]
    else:
        from minsheng.ledger.models import ActorSalt

        salt = ActorSalt.objects.select_related("leaf").first()
        _sql("UPDATE ledger_actorsalt SET salt = %s WHERE leaf_id = %s", [b"\x07" * 16, salt.leaf_id])
        expected = [("salt", salt.leaf.index)]
    report = verification.verify()
    assert not report.fast and _names(report) == expected


# Only the ledger's tables are flushed afterwards (the audit trail refuses TRUNCATE on PostgreSQL).
@pytest.mark.django_db(transaction=True, available_apps=["minsheng.ledger"])
def test_workers_read_their_own_chunks_outside_a_transaction(tmp_path):
    # Committed data and a database other processes can open: PostgreSQL (exported snapshot) or an
    # SQLite file (here a copy of the in-memory test database, read in-process by the same function).
    services.anchor_many(
        [{"kind": "inspection", "project_code": "P1", "record": ("construction.inspection", str(i)),
          "digest": f"{i:064x}", "actor": 1000 + i} for i in range(37)]
    )
    services.checkpoint_create()
    head = Log.objects.get()
    if connection.vendor == "postgresql":
        assert verification._worker_db() is not None
        report = verification.verify(workers=2)
        assert report.ok and report.fast and report.leaves == 37
        _sql("UPDATE ledger_leaf SET digest = %s WHERE \"index\" = 30", ["ee" * 32])
        report = verification.verify(workers=2)
        assert not report.fast and _names(report) == [("leaf", 30)]
    else:
        import sqlite3

        path = tmp_path / "copy.sqlite3"
        with sqlite3.connect(path) as target:
            connection.ensure_connection()
            connection.connection.backup(target)
        db = {"vendor": "sqlite", "path": str(path)}
        verify_chunks._connection = None
        try:
            result = verify_chunks.read_and_check(db, head.pk, 0, 37, "sha256", frozenset())
            assert result.ok and len(result.levels[0]) == 37 * 32
            with sqlite3.connect(path) as c:
                c.execute("UPDATE ledger_leaf SET digest = ? WHERE \"index\" = 30", ["ee" * 32])
            verify_chunks._connection = None
            assert not verify_chunks.read_and_check(db, head.pk, 0, 37, "sha256", frozenset()).ok
        finally:
            verify_chunks._connection = None
