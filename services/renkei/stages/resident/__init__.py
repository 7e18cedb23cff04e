"""The resident stage (住民の連携): std resident-keyed topics → ``unified.resident`` and
``internal.resident.facts``. Wiring in ``stage.py``; state and steps in the other modules
(pure: no faust, no Kafka)."""
