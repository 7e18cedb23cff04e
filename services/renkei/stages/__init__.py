"""The streaming stages, a package each (wiring in ``<stage>/stage.py``, logic beside it). The
list of stages is the registry in ``renkei.contracts.stages``; nothing is created at import
time. Run them with ``renkei worker STAGE|all``. A stage package imports no other stage
package (tests/test_layering.py)."""
