"""Example downstream service: keeps the current evacuation-support list per alert and region.

Built on the Renkei subscriber SDK only (``renkei.subscribe``). Run with
``python -m evacuation_notifier`` next to a running platform; see ``--help``.
"""
