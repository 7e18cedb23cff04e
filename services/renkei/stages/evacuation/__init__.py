"""The evacuation stage (避難行動要支援者名簿): resident facts × alerts →
``derived.evacuation-support``. Wiring in ``stage.py``; steps in ``flow.py``, lists in
``lists.py`` (pure)."""
