"""The notifier's command line: its default port does not clash with the staff view's."""

from __future__ import annotations

from evacuation_notifier.__main__ import DEFAULT_PORT, parse_args
from staff_view.settings import StaffViewSettings


def test_default_port_is_not_the_staff_views() -> None:
    assert parse_args([]).port == DEFAULT_PORT == 8092
    assert StaffViewSettings.model_fields["port"].default == 8090
    assert parse_args(["--port", "8190"]).port == 8190
