"""Mitigations: selection and curation, filters, provenance (hooks and modes for the loop)."""
