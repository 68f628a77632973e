"""Weighted roll-up of the responsibility checklist (pure)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from minsheng.projects.wbs import Node, rollup


def n(id_, parent, weight, progress):
    return Node(id_, parent, Decimal(str(weight)), Decimal(str(progress)))


def test_project_progress_is_the_weighted_mean_of_top_level_items():
    total, per = rollup([n(1, None, 3, 100), n(2, None, 1, 0)])
    assert total == Decimal("75.0")
    assert per == {1: Decimal("100.0"), 2: Decimal("0.0")}


def test_nested_items_roll_up_through_their_parents():
    nodes = [
        n(1, None, 1, 0),  # parent: its own stored progress is ignored
        n(2, 1, 1, 100),
        n(3, 1, 3, 0),
        n(4, None, 1, 50),
        n(5, 3, 1, 40),  # 3 becomes a parent too: 40
    ]
    total, per = rollup(nodes)
    # item 3 = 40; item 1 = (1*100 + 3*40)/4 = 55; project = (55 + 50)/2 = 52.5
    assert per[3] == Decimal("40.0")
    assert per[1] == Decimal("55.0")
    assert total == Decimal("52.5")


def test_zero_total_weight_counts_as_no_progress():
    total, _ = rollup([n(1, None, 0, 100), n(2, None, 0, 50)])
    assert total == Decimal("0.0")


def test_empty_checklist_has_zero_progress():
    assert rollup([]) == (Decimal("0.0"), {})


def test_orphaned_item_counts_as_top_level():
    total, _ = rollup([n(1, None, 1, 100), n(2, 99, 1, 0)])
    assert total == Decimal("50.0")


def test_out_of_range_leaf_progress_is_clamped():
    total, _ = rollup([n(1, None, 1, 150), n(2, None, 1, -20)])
    assert total == Decimal("50.0")


def test_result_is_rounded_half_up_to_one_decimal():
    total, _ = rollup([n(1, None, 1, 100), n(2, None, 1, 0), n(3, None, 1, 0)])
    assert total == Decimal("33.3")
    total, _ = rollup([n(1, None, 1, "0.25"), n(2, None, 1, "0")])
    assert total == Decimal("0.1")


@st.composite
def trees(draw, min_weight=0):
    size = draw(st.integers(min_value=1, max_value=30))
    nodes = []
    for i in range(1, size + 1):
        parent = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=i - 1))) if i > 1 else None
        weight = draw(st.decimals(min_value=min_weight, max_value=100, places=2))
        progress = draw(st.decimals(min_value=0, max_value=100, places=1))
        nodes.append(Node(i, parent, weight, progress))
    return nodes


@given(trees())
def test_rollup_stays_within_0_and_100(nodes):
    total, per = rollup(nodes)
    assert Decimal(0) <= total <= Decimal(100)
    assert all(Decimal(0) <= v <= Decimal(100) for v in per.values())


@given(trees(min_weight=Decimal("0.01")))  # services refuse weights of zero
def test_all_leaves_complete_means_the_project_is_complete(nodes):
    done = [Node(x.id, x.parent_id, x.weight, Decimal(100)) for x in nodes]
    total, per = rollup(done)
    assert total == Decimal("100.0")
    assert set(per.values()) == {Decimal("100.0")}


@given(trees(min_weight=Decimal("0.01")))
def test_raising_one_leaf_never_lowers_the_total(nodes):
    parents = {x.parent_id for x in nodes}
    leaf = next(x for x in reversed(nodes) if x.id not in parents)
    raised = [Node(x.id, x.parent_id, x.weight, Decimal(100)) if x is leaf else x for x in nodes]
    assert rollup(raised)[0] >= rollup(nodes)[0]
