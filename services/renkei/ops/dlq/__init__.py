"""Operator tools for dead-letter topics: ``renkei dlq list|show|replay`` (docs/dlq.md).

- ``entries``: a DLQ record as the tools see it (reason headers parsed), topic names, the
  headers a replayed record carries, masking of 個人番号-like values for display;
- ``memory``: what earlier replays already sent (consumer-group offsets per DLQ topic) and
  which records a replay sends;
- ``summary``: the value-free counts ``list`` prints;
- ``kafka``: reading DLQ topics, group offsets, producing and committing (aiokafka);
- ``replay``: one replay run, with progress and the ``dlq.replay`` audit record.
"""
