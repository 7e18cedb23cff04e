"""Standardization (標準化): pure functions turning legacy department values into canonical form."""
