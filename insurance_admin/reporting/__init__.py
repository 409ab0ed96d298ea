"""Periodic reports generated on schedule and stored as report runs (PDF + XLSX, SHA-256)."""
