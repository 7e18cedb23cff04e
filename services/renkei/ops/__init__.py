"""Operations: Prometheus metrics (one module, ``metrics.py``), health endpoints, committed and
end offsets, ``renkei status`` (``status.py``) and the DLQ tools (``dlq/``). Imports no stage."""
