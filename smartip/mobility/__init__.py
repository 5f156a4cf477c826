"""Mobility: traces, fixes and the pure processing pipeline (no Django in this package's pure modules)."""
