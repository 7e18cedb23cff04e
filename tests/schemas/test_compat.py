from renkei.schemas.compat import explain

OLD = {
    "type": "record",
    "name": "A",
    "namespace": "x",
    "fields": [
        {"name": "a", "type": "string"},
        {"name": "b", "type": "int"},
        {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["p", "q"]}},
    ],
}


def _with(fields):  # type: ignore[no-untyped-def]
    return {**OLD, "fields": fields}


def test_adding_an_optional_field_is_compatible_in_every_mode() -> None:
    new = _with([*OLD["fields"], {"name": "c", "type": ["null", "string"], "default": None}])
    for mode in ("BACKWARD", "FORWARD", "FULL", "FULL_TRANSITIVE"):
        assert explain(mode, new, [OLD]) == []


def test_removing_a_field_without_default_breaks_forward_and_names_it() -> None:
    new = _with([OLD["fields"][0], OLD["fields"][2]])
    assert explain("BACKWARD", new, [OLD]) == []
    problems = explain("FULL_TRANSITIVE", new, [OLD])
    assert problems == ["b: field removed, but it has no default (old readers need it)"]


def test_adding_a_required_field_breaks_backward() -> None:
    new = _with([*OLD["fields"], {"name": "c", "type": "string"}])
    assert explain("BACKWARD", new, [OLD]) == [
        "c: field added without a default (old data lacks it)"
    ]


def test_enum_symbol_removed_and_type_narrowed() -> None:
    new = _with(
        [
            OLD["fields"][0],
            {"name": "b", "type": "long"},
            {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["p"]}},
        ]
    )
    assert explain("BACKWARD", new, [OLD]) == ["kind: enum symbols ['q'] unknown to the reader"]
    assert explain("FORWARD", new, [OLD]) == ["b: long data cannot be read as int"]


def test_transitive_checks_every_version() -> None:
    v2 = _with([*OLD["fields"], {"name": "c", "type": ["null", "int"], "default": None}])
    v3 = _with([*OLD["fields"], {"name": "c", "type": ["null", "string"], "default": None}])
    assert explain("FULL", v3, [OLD]) == []  # OLD has no c
    assert explain("FULL", v3, [OLD, v2]) != []
    assert explain("NONE", v3, [OLD, v2]) == []
