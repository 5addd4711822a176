"""Metrics and reports over a workspace."""
