"""Normalizers (正規化): pure functions turning legacy department values — addresses, dates
(和暦), names and kana, code lists — into canonical form. Used by the standardize stage, the
CSV input format and ``renkei normalize``."""
