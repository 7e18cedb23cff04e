"""The notifier's command line: its default port does not clash with the staff view's."""

from __future__ import annotations

from evacuation_notifier.__main__ import DEFAULT_PORT, parse_args
from staff_view.settings import StaffViewSettings


def test_default_port_is_not_the_staff_views() -> None:
    assert parse_args([]).port == DEFAULT_PORT == 8092
    assert StaffViewSettings.model_fields["port"].default == 8090
    assert parse_args(["--port", "8190"]).port == 8190


def test_it_reads_its_purpose_view_in_its_agreements_group() -> None:
    from pathlib import Path

    import yaml

    from evacuation_notifier.__main__ import TOPIC
    from renkei.contracts.views import load_view_plans, view_catalogue
    from renkei.schemas.catalogue import load_catalogue

    repo = Path(__file__).resolve().parents[2]
    catalogue = load_catalogue(repo / "schemas" / "avro")
    views = view_catalogue(catalogue, load_view_plans(repo / "deploy" / "agreements", catalogue))
    assert TOPIC in views.topics  # a view, not derived.evacuation-support
    agreement = yaml.safe_load(
        (repo / "deploy" / "agreements" / "evacuation-notifier.yaml").read_text("utf-8")
    )
    assert parse_args([]).group == agreement["consumer_group"]
