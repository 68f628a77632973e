"""Publish a new OCDS release when a contracting process changes (events sent on commit)."""
