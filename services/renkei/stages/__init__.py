"""The streaming stages. Each module builds one faust App (``build_<stage>(settings)``); nothing
is created at import time. Run them with ``renkei worker STAGE|all``."""
