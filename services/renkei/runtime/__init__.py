"""The stage framework: one builder for every stage (``builder.py``), the per-record processor
(decode → step → encode → send, or the DLQ), the faust agent around it, changelog tracking,
topic provisioning and the worker process. It knows no stage's logic; operations code
(metrics, health, offsets, status) is in ``renkei.ops``."""
