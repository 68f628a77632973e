"""Decision 0004: the budget layer of finance never imports procurement, nor the payment/EVM layer above it."""

from __future__ import annotations

import ast
from pathlib import Path

FINANCE = Path(__file__).resolve().parents[1]
BUDGET_LAYER = ["models.py", "services/__init__.py", "services/budgets.py", "selectors/__init__.py",
                "selectors/budgets.py"]
ABOVE = ("minsheng.procurement", "minsheng.finance.services.payments", "minsheng.finance.services.evm",
         "minsheng.finance.selectors.payments", "minsheng.finance.selectors.evm", "minsheng.insight")


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_budget_layer_imports_nothing_above_it():
    for name in BUDGET_LAYER:
        bad = {m for m in _imports(FINANCE / name) if m.startswith(ABOVE)}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_the_check_sees_an_import_above():
    assert any(m.startswith(ABOVE) for m in _imports(FINANCE / "services" / "payments.py"))
