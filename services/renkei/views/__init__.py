"""Purpose-scoped views (目的別ビュー): projections of unified and derived streams to the fields a
data-sharing agreement allows, with per-purpose pseudonymous keys. See docs/privacy.md."""
