"""The views stage (目的別ビュー): unified and derived streams → ``view.<purpose>.<short>``, each
projected to the fields a data-sharing agreement allows, with per-purpose pseudonymous keys.
Wiring in ``stage.py``; keys in ``pseudonym.py``; which views exist is a contract
(``renkei.contracts.views``). See docs/privacy.md."""
