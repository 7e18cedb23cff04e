"""Disclosure control (統計的開示制御) for region figures that leave the platform's own staff.

The one place that decides what an aggregate may show. A snapshot job (not a stage) reads one
consistent cut of the residents' facts, builds one table per municipality (``table.py``),
suppresses small cells and their complements (``suppression.py``), proves with linear
programming that no suppressed cell can be recomputed (``audit.py``), perturbs the shown counts
with the cell-key method against differencing between snapshots (``perturbation.py``) and
publishes the audited table as one ``derived.region-snapshot`` record (``release.py``,
``job.py``). docs/disclosure-control.md explains the rules and parameters.
"""
