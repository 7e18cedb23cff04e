"""Pure state logic of the resident, region and evacuation stages (no faust, no Kafka).

Every state object here is a plain dataclass with ``to_dict``/``from_dict`` to JSON-compatible
dicts, because it lives in a faust table whose RocksDB store keeps values as JSON.
"""
