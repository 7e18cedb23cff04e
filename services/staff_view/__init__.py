"""Staff web view (職員向け画面): region figures and active evacuation-support lists, read-only.

A downstream service on the Renkei subscriber SDK: it follows ``unified.region`` and
``derived.evacuation-support``, keeps the latest state in memory and serves it as a Japanese
web page and as JSON for municipal staff who are not engineers. Run with
``python -m staff_view`` next to a running platform; see ``docs/staff-view.md``.
"""
