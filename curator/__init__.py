"""Curator: triage news article cards stored as YAML files."""

__version__ = "0.1.0"
