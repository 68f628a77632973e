"""OCDS 1.1 publication of contracting processes (builder, publisher, endpoints, export)."""
