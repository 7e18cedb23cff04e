"""Renkei (連携): streaming data-linkage platform (データ連携基盤) for Japanese municipalities."""

__version__ = "0.1.0"
