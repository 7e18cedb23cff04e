"""Contracts shared by every side — stages, apps, publishers, operators' tools — beside the
schema catalogue (``renkei.schemas``), the wire format (``renkei.serde``) and the settings:

- ``stages``: the stage registry (names, topics, tables, internal topics, web ports, builders);
- ``names``: contract topic names → Kafka names (test prefix), subjects, DLQs, groups;
- ``views``, ``view_projection``: which purpose views exist and how a view record is formed;
- ``dlq``: the dead-letter record format (reason classes, ``renkei.dlq.*`` headers).
"""
