"""The region stage (地域集計): resident facts and indicators → ``unified.region``. Wiring in
``stage.py``; region state and steps in ``state.py`` and ``flow.py`` (pure)."""
