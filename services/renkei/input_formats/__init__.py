"""Adapters for what legacy department systems really produce (CP932 CSV exports, snapshots)."""
