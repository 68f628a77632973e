"""Reads of finance data, scoped to the user. Import the module you need; this package imports nothing
itself, so the budget layer never loads procurement (decision 0004)."""
