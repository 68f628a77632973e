"""Anchoring: what the projects events put in the log, idempotency, salted actors, tree storage."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.db import connection

from minsheng.core.errors import ValidationFailed
from minsheng.ledger import canonical, merkle, services, tree
from minsheng.ledger.events import anchor_on_commit
from minsheng.ledger.models import ActorSalt, Leaf, Log, Node
from minsheng.ledger.tests.conftest import PDF
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import GateApproval, StageTransition

pytestmark = pytest.mark.django_db


def test_stage_transition_and_document_are_anchored_after_commit(anchored, org):
    leaves = list(Leaf.objects.order_by("index"))
    assert [leaf.kind for leaf in leaves] == ["stage_transition", "document"]
    doc_leaf = leaves[1]
    statement = canonical.parse(bytes(doc_leaf.data))
    assert statement.digest == hashlib.sha256(PDF).hexdigest() == anchored["document"].sha256
    assert statement.project_code == anchored["project"].code
    assert statement.record_model == "projects.document" and statement.actor_role == "dept_officer"
    t = StageTransition.objects.get()
    assert canonical.parse(bytes(leaves[0].data)).record_id == str(t.pk)


def test_no_personal_identifier_enters_a_leaf(anchored, org):
    user = org.user("a_housing")
    for leaf in Leaf.objects.all():
        data = bytes(leaf.data).decode()
        for ident in (user.username, user.full_name, f'"{user.pk}"'):
            assert ident not in data
        salt = ActorSalt.objects.get(leaf=leaf)
        assert (
            canonical.parse(bytes(leaf.data)).actor_commitment
            == hashlib.sha256(bytes(salt.salt) + str(user.pk).encode()).hexdigest()
        )


def test_erasing_an_actor_keeps_leaves_and_proofs_valid(anchored, org):
    from minsheng.ledger import verification

    assert services.actor_erase(actor_id=org.user("a_housing").pk) == 2
    assert not ActorSalt.objects.exists()
    assert verification.verify().ok


def test_gate_approvals_and_refusals_are_anchored(org, project, django_capture_on_commit_callbacks):
    from minsheng.projects import services as ps

    with django_capture_on_commit_callbacks(execute=True):
        ps.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.PROPOSAL)
        ps.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind="proposal",
            title="建议书",
            fileobj=io.BytesIO(PDF),
            filename="p.pdf",
        )
    with django_capture_on_commit_callbacks(execute=True):
        request = ps.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY)
    with django_capture_on_commit_callbacks(execute=True):
        ps.gate_decide(actor=org.user("a_drc"), request=request, approve=False, comment="材料不全")
    approval = GateApproval.objects.get()
    kinds = list(Leaf.objects.order_by("index").values_list("kind", "record_id"))
    assert ("gate_approval", str(approval.pk)) in kinds
    assert [k for k, _ in kinds] == ["stage_transition", "document", "gate_approval"]


def test_anchoring_twice_returns_the_existing_entry(anchored):
    doc = anchored["document"]
    first = Leaf.objects.get(kind="document")
    again = services.anchor(kind="document", project_code=doc.project.code, record=doc)
    assert again.pk == first.pk and Log.objects.get().size == 2
    batch = services.anchor_many(
        [
            {"kind": "document", "project_code": doc.project.code, "record": doc},
            {
                "kind": "inspection",
                "project_code": doc.project.code,
                "record": ("construction.inspection", "9"),
                "digest": "ab" * 32,
            },
            {
                "kind": "inspection",
                "project_code": doc.project.code,
                "record": ("construction.inspection", "9"),
                "digest": "ab" * 32,
            },
        ]
    )
    assert batch[0].pk == first.pk and batch[1].index == batch[2].index == 2
    assert Log.objects.get().size == 3


def test_the_anchor_event_anchors_any_record_on_commit(anchored, django_capture_on_commit_callbacks, org):
    code = anchored["project"].code
    with django_capture_on_commit_callbacks(execute=True):
        anchor_on_commit(
            kind="disbursement",
            project_code=code,
            record=("finance.disbursement", "42"),
            digest="cd" * 32,
            actor=org.user("a_finance"),
        )
    leaf = Leaf.objects.get(kind="disbursement")
    assert canonical.parse(bytes(leaf.data)).actor_role == "finance_officer"


def test_unregistered_record_without_digest_is_refused_and_nothing_is_written(anchored):
    with pytest.raises(ValidationFailed) as err:
        services.anchor(kind="bid", project_code=anchored["project"].code, record=("procurement.bid", "1"))
    assert "digest" in err.value.fields
    with pytest.raises(ValidationFailed):
        services.anchor(kind="Bad Kind", project_code="x", record=("a.b", "1"), digest="ab" * 32)
    assert Leaf.objects.count() == 2


@pytest.mark.parametrize("alg", ["sha256", "sm3"])
def test_stored_nodes_give_the_rfc9162_root_and_proofs(alg, settings):
    log_obj = Log.objects.create(origin=f"t/{alg}", hash_alg=alg)
    hasher = merkle.Hasher(alg)
    for n in range(37):
        services.anchor(
            kind="test", project_code="P", record=("bench.item", str(n)), digest=f"{n:064x}", log_obj=log_obj
        )
    if alg == "sm3":
        services.anchor_many(
            [
                {"kind": "test", "project_code": "P", "record": ("bench.item", str(n)), "digest": f"{n:064x}"}
                for n in range(37, 60)
            ],
            log_obj=log_obj,
        )
    else:
        services.anchor_many(
            [
                {"kind": "test", "project_code": "P", "record": ("bench.item", str(n)), "digest": f"{n:064x}"}
                for n in range(37, 60)
            ],
            log_obj=log_obj,
        )
    log_obj.refresh_from_db()
    data = [
        bytes(d) for d in Leaf.objects.filter(log=log_obj).order_by("index").values_list("data", flat=True)
    ]
    assert log_obj.size == 60 and bytes(log_obj.root) == merkle.mth(hasher, data)
    assert Node.objects.filter(log=log_obj).count() == sum(60 >> lv for lv in range(1, 7))
    for m in (1, 5, 32, 59):
        assert tree.root_at(log_obj, m) == merkle.mth(hasher, data[:m])
        proof = tree.inclusion_proof(log_obj, m - 1, 60)
        merkle.verify_inclusion(hasher, m - 1, 60, hasher.leaf(data[m - 1]), proof, bytes(log_obj.root))
        merkle.verify_consistency(
            hasher,
            m,
            60,
            merkle.mth(hasher, data[:m]),
            bytes(log_obj.root),
            tree.consistency_proof(log_obj, m, 60),
        )


def test_a_proof_reads_a_logarithmic_number_of_rows(django_assert_max_num_queries):
    log_obj = Log.objects.create(origin="t/q")
    services.anchor_many(
        [
            {"kind": "test", "project_code": "P", "record": ("bench.item", str(n)), "digest": f"{n:064x}"}
            for n in range(1000)
        ],
        log_obj=log_obj,
    )
    log_obj.refresh_from_db()
    with django_assert_max_num_queries(2):
        tree.inclusion_proof(log_obj, 517, 1000)
    with django_assert_max_num_queries(2):
        tree.consistency_proof(log_obj, 377, 999)
    connection.queries_log.clear()
