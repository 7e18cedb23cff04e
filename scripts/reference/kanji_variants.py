"""Make services/renkei/normalize/data/kanji-variants.tsv from kyujipy's data files.

    pip download --no-deps kyujipy==0.6.8 -d /tmp/k && unzip /tmp/k/*.whl -d /tmp/k
    python scripts/reference/kanji_variants.py /tmp/k/kyujipy/data > table.tsv  # add the header

One line per 旧字体 / 異体字 that NFKC does not already fold: ``variant<TAB>canonical<TAB>source``.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

PAIR = re.compile(r'\s*\["(.+?)",\s*"(.+?)"\]')
SECTION = re.compile(r"\s*#\s*(\S+)")


def main(folder: Path) -> None:
    seen: set[str] = set()
    for name in ("kyujitai_simplified.cson", "kyujitai_variants.cson"):
        section = ""
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if (head := SECTION.match(line)) and not line.strip().startswith("# -"):
                section = head.group(1)
            if (pair := PAIR.match(line)) is None:
                continue
            new, old = pair.group(1), pair.group(2)
            if len(new) != 1 or len(old) != 1 or new == old or old in seen:
                continue
            if unicodedata.normalize("NFKC", old) == new:
                continue  # a compatibility ideograph: NFKC folds it already
            seen.add(old)
            print(f"{old}\t{new}\t{name}:{section}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
