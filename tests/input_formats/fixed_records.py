"""Building fixed-width (固定長) test records byte by byte, as legacy exports write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renkei.input_formats.csv_mapping import load_mapping

REPO = Path(__file__).resolve().parents[2]
ZENKEN_FIXED = REPO / "deploy" / "mappings" / "jumin-kiroku-zenken-fixed.yaml"
KENSHIN_FIXED = REPO / "deploy" / "mappings" / "kenshin-kekka-fixed.yaml"


def text(value: str, length: int, *, pad: str = " ") -> bytes:
    """``value`` in CP932, padded to ``length`` bytes (全角 text is padded with 全角 spaces)."""
    raw = value.encode("cp932")
    if len(raw) > length:
        raise ValueError(f"{value!r} is {len(raw)} bytes, the column {length}")
    filler = pad.encode("cp932")
    while len(raw) + len(filler) <= length:
        raw += filler
    return raw + b" " * (length - len(raw))


def packed(value: int, length: int) -> bytes:
    """COMP-3: two digits per byte, sign C (+) or D (-) in the last half-byte."""
    digits = str(abs(value)).rjust(length * 2 - 1, "0")
    nibbles = [int(d) for d in digits] + [0xD if value < 0 else 0xC]
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def zoned(value: int, length: int) -> bytes:
    """ASCII zoned: digits 0x30-0x39, a negative number's last byte in zone 7."""
    raw = bytearray(str(abs(value)).rjust(length, "0").encode("ascii"))
    if value < 0:
        raw[-1] = 0x70 | (raw[-1] & 0xF)
    return bytes(raw)


def record(mapping_path: Path, values: dict[str, Any]) -> bytes:
    """One record of ``mapping_path``'s layout; ``values`` by column (str, or int for numbers;
    bytes are taken as they are). Unset columns are spaces."""
    layout = load_mapping(mapping_path).layout
    assert layout is not None
    size = layout.record_length or layout.line_length
    out = bytearray(b" " * size)
    for name, column in layout.columns.items():
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bytes):
            raw = value
        elif column.type == "packed":
            raw = packed(int(value), column.length)
        elif column.type == "zoned":
            raw = zoned(int(value), column.length)
        else:
            zenkaku = any(ord(ch) > 0xFF and not 0xFF61 <= ord(ch) <= 0xFF9F for ch in value)
            raw = text(value, column.length, pad="\u3000" if zenkaku else " ")
        assert len(raw) == column.length, (name, raw)
        out[column.start - 1 : column.end] = raw
    return bytes(out)


def resident(key: str, **changes: str) -> dict[str, Any]:
    """A resident of the 全件 layout (jumin-kiroku-zenken-fixed.yaml)."""
    values = {
        "統合宛名番号": key,
        "氏": "高橋",
        "名": "健一",
        "氏カナ": "ﾀｶﾊｼ",
        "名カナ": "ｹﾝｲﾁ",
        "生年月日": "3550401",
        "性別": "1",
        "住民種別": "1",
        "郵便番号": "0640941",
        "住所": "北海道札幌市中央区旭ケ丘５丁目６番５１号",
        "方書": "旭ケ丘ハイツ２０３",
        "世帯番号": "0001023454",
        "続柄": "世帯主",
    }
    values.update(changes)
    return values
