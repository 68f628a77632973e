"""Writes to finance. Import the module you need (`from minsheng.finance.services import budgets`):
this package imports nothing itself, so the budget layer never loads procurement (decision 0004)."""
