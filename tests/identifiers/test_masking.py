"""Masking 個人番号 in the kept copies of refused records."""

from __future__ import annotations

import fastavro

from renkei.identifiers.masking import mask_datum, mask_framed, mask_raw_digits, offending_strings
from renkei.identifiers.mynumber import my_number_check_digit


def _my_number(first_eleven: str = "12345678901") -> str:
    return first_eleven + str(my_number_check_digit(first_eleven))


MY_NUMBER = _my_number()
FULL_WIDTH = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
NOT_ONE = MY_NUMBER[:11] + str((int(MY_NUMBER[11]) + 1) % 10)  # wrong check digit


def test_offending_strings_are_found_in_nested_values() -> None:
    value = {
        "a": MY_NUMBER,
        "b": {"c": [f"{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}", "fine"]},
        "d": FULL_WIDTH,
        "e": NOT_ONE,
        "kojin_bango": f"番号は{MY_NUMBER}です",
    }
    found = offending_strings(value)
    assert MY_NUMBER in found and FULL_WIDTH in found and f"番号は{MY_NUMBER}です" in found
    assert NOT_ONE not in found and "fine" not in found


def test_mask_datum_masks_only_the_numbers() -> None:
    masked, count = mask_datum({"name": "佐藤", "note": MY_NUMBER, "list": [FULL_WIDTH, 3]})
    assert count == 2
    assert masked == {"name": "佐藤", "note": "*" * 12, "list": ["*" * 12, 3]}


def test_masked_avro_bytes_still_decode_with_the_writer_schema() -> None:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "R",
            "fields": [
                {"name": "id", "type": "long"},
                {"name": "name", "type": "string"},
                {"name": "note", "type": ["null", "string"]},
            ],
        }
    )
    import io

    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, {"id": 7, "name": "佐藤", "note": FULL_WIDTH})
    masked = mask_framed(buffer.getvalue(), [FULL_WIDTH])
    assert len(masked) == len(buffer.getvalue())
    decoded = fastavro.schemaless_reader(io.BytesIO(masked), schema, schema)
    assert decoded == {"id": 7, "name": "佐藤", "note": "*" * len(FULL_WIDTH.encode())}


def test_raw_digits_with_a_valid_check_digit_are_masked_in_undecodable_bytes() -> None:
    raw = b"\x07garbage " + MY_NUMBER.encode() + b" " + NOT_ONE.encode() + FULL_WIDTH.encode()
    masked, count = mask_raw_digits(raw)
    assert count == 2
    assert MY_NUMBER.encode() not in masked and FULL_WIDTH.encode() not in masked
    assert NOT_ONE.encode() in masked  # not a valid 個人番号: kept
    assert len(masked) == len(raw)
    # a longer digit run is not a standalone 12-digit number
    assert mask_raw_digits(b"9" + MY_NUMBER.encode())[1] == 0
