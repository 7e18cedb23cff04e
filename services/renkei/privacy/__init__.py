"""Privacy rules applied where data is produced: 支援措置 (抑止) redaction and small-cell
suppression (``protection.py``). See docs/privacy.md."""
