"""Reliability: keys, backups, health and metrics, logs (issue 15)."""
