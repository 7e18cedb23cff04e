"""Pure helpers shared by the linkage stages (resident, region, evacuation): JSON forms of
values, order keys and dates (``values.py``), and the routing of resident facts to region keys
(``routing.py``). No faust, no Kafka.

State objects of the stages are plain dataclasses with ``to_dict``/``from_dict`` to
JSON-compatible dicts, because they live in faust tables whose RocksDB store keeps JSON.
"""
