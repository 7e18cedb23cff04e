"""The standardize stage (標準化): each department topic → ``std.<topic>``. Wiring in
``stage.py``; per-topic steps in ``records.py`` and ``record_*.py``; the value normalizers
they call (addresses, dates, names, codes) in ``renkei.normalize``."""
