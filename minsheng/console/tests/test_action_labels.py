"""Every audit action that finance, procurement and insight record has a readable label in the console's ACTIONS
map, so a project's timeline never shows a raw action code. The actions are collected from the source: the
`action=` of each `audit.record(...)` call, followed through local assignments, conditional expressions, dict
lookups and pass-through helpers (procurement's `_record(actor, action, …)`); an action the collector cannot
resolve to literal strings (an f-string, say) fails the test too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from minsheng.console.templatetags.console import ACTIONS, action_label

ROOT = Path(__file__).resolve().parents[2]
APPS = ("finance", "procurement", "insight")


class Unresolved(Exception):
    pass


def _sources() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py")
                  if "tests" not in p.relative_to(ROOT).parts and "migrations" not in p.parts)


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _enclosing(tree: ast.AST, target: ast.AST) -> ast.FunctionDef | None:
    best = None
    for fn in _functions(tree):
        if any(node is target for node in ast.walk(fn)):
            best = fn  # ast.walk is breadth-first: the last match is the innermost
    return best


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _argument(call: ast.Call, name: str, position: int) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _values(node: ast.expr, tree: ast.AST, seen: frozenset[str] = frozenset()) -> set[str]:
    """The literal strings `node` can evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, tree, seen) | _values(node.orelse, tree, seen)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return _values(node.value, tree, seen)
    if isinstance(node, ast.Dict):
        return set().union(*(_values(v, tree, seen) for v in node.values))
    if isinstance(node, ast.Name) and node.id not in seen:
        fn = _enclosing(tree, node)
        scope = fn if fn is not None else tree
        assigned = [a.value for a in ast.walk(scope) if isinstance(a, ast.Assign | ast.AnnAssign)
                    and a.value is not None
                    and any(isinstance(t, ast.Name) and t.id == node.id
                            for t in (a.targets if isinstance(a, ast.Assign) else [a.target]))]
        if not assigned and fn is not None:  # module-level names (a table of actions)
            assigned = [a.value for a in tree.body if isinstance(a, ast.Assign | ast.AnnAssign)
                        and a.value is not None
                        and any(isinstance(t, ast.Name) and t.id == node.id
                                for t in (a.targets if isinstance(a, ast.Assign) else [a.target]))]
        if assigned:
            return set().union(*(_values(v, tree, seen | {node.id}) for v in assigned))
        if fn is not None:
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            names = params + [a.arg for a in fn.args.kwonlyargs]
            if node.id in names:  # a pass-through helper: the values come from its callers in this module
                position = params.index(node.id) if node.id in params else 10_000
                calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _call_name(c) == fn.name]
                args = [_argument(c, node.id, position) for c in calls]
                if calls and all(a is not None for a in args):
                    return set().union(*(_values(a, tree, seen | {node.id}) for a in args))
    raise Unresolved(ast.unparse(node))


def actions_in(source: str) -> set[str]:
    """Every action string the `audit.record(...)` calls in `source` can record."""
    tree = ast.parse(source)
    out: set[str] = set()
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "record" \
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "audit":
            action = _argument(call, "action", 10_000)
            if action is None:
                raise Unresolved(ast.unparse(call))
            out |= _values(action, tree)
    return out


def _all_actions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in _sources():
        for action in actions_in(path.read_text(encoding="utf-8")):
            found.setdefault(action, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_finance_procurement_and_insight_action_has_a_label():
    found = _all_actions()
    missing = {a: sorted(where) for a, where in found.items() if a not in ACTIONS}
    assert not missing, f"audit actions without a label in console ACTIONS: {missing}"
    for action in found:
        assert action_label(action) != action


def test_the_collector_sees_the_actions_of_each_app():
    found = _all_actions()
    # a literal, a conditional, a table lookup, and procurement's and insight's own
    assert {"payment.request", "payment.signoff_confirm", "payment.signoff_reject", "payment.finance_approve",
            "budget.approve", "budget.reject", "tender.open", "panel.add", "variation.reject",
            "redflag.decide"} <= set(found)


def test_the_collector_follows_helpers_and_finds_a_missing_label():
    source = '''
def _record(actor, action, obj):
    audit.record(actor=actor, action=action, obj=obj)

STEPS = {"a": "demo.first", "b": "demo.second"}

def one(actor, obj, ok, step):
    _record(actor, "demo.helper", obj)
    audit.record(actor=actor, action="demo.yes" if ok else "demo.no", obj=obj)
    name = STEPS[step]
    audit.record(actor=actor, action=name, obj=obj)
'''
    found = actions_in(source)
    assert found == {"demo.helper", "demo.yes", "demo.no", "demo.first", "demo.second"}
    assert not found & set(ACTIONS)  # so the first test would name these as missing


def test_an_action_built_at_run_time_is_refused():
    with pytest.raises(Unresolved):
        actions_in('def f(step):\n    audit.record(actor=None, action=f"payment.{step}", obj=None)\n')
