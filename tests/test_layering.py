"""The layers of services/, checked on every import statement (function-level ones too).

- a stage package (``renkei.stages.<stage>``) imports no other stage package;
- the stage framework (``renkei.runtime``) and operations (``renkei.ops``) import no stage and
  no stage logic (normalizers, shared helpers, privacy rules): a step's errors reach the
  framework as ``InvalidRecord``, carrying their DLQ reason class;
- nothing outside ``renkei.cli`` imports it;
- contracts (``renkei.contracts``), the shared pure helpers (``renkei.shared``,
  ``renkei.privacy``, ``renkei.normalize``) and the catalogue import no stage, framework,
  operations or CLI module, and no faust;
- apps (``staff_view``, ``evacuation_notifier``), publishers (``renkei.publish``) and the data
  catalogue page (``renkei.data_catalogue``) import no stage and no framework module: they
  share contracts with the stages, not code;
- the disclosure job (``renkei.disclosure``) imports no stage and no framework module: it reads
  the stages' contract topics, never their code or tables.

A new import that crosses a layer fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "services"
STAGES = "renkei.stages"
LOW_LEVEL = (
    "renkei.contracts",
    "renkei.shared",
    "renkei.privacy",
    "renkei.normalize",
    "renkei.schemas",
    "renkei.serde",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SERVICES).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every absolute module an import statement of ``path`` names (``from a import b`` gives
    ``a.b`` too, since b may be a module), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def stage_of(module: str) -> str | None:
    """``resident`` for ``renkei.stages.resident.flow``; None outside a stage package."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and within(module, STAGES) else None


def violation(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None."""
    own, other = stage_of(importer), stage_of(imported)
    if own and other and own != other:
        return "a stage package imports another stage package"
    framework = within(importer, "renkei.runtime") or within(importer, "renkei.ops")
    stage_logic = ("renkei.normalize", "renkei.shared", "renkei.privacy")
    if framework and (other or any(within(imported, p) for p in stage_logic)):
        return "the framework or operations import a stage or stage logic"
    if within(imported, "renkei.cli") and not within(importer, "renkei.cli"):
        return "only the CLI imports the CLI"
    if any(within(importer, p) for p in LOW_LEVEL) and (
        other
        or any(
            within(imported, p)
            for p in ("renkei.runtime", "renkei.ops", "renkei.cli", "faust", "mode")
        )
    ):
        return "a low-level module (contracts, helpers, catalogue) imports a higher layer"
    outside = (
        "staff_view",
        "evacuation_notifier",
        "renkei.publish",
        "renkei.disclosure",
        "renkei.data_catalogue",
    )
    if any(within(importer, p) for p in outside) and (
        within(imported, STAGES) or within(imported, "renkei.runtime")
    ):
        return "an app or publisher imports stage or framework code"
    return None


def all_imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        importer = module_name(path)
        for imported, line in imports(path):
            found.append((f"{path.relative_to(SERVICES)}:{line}", importer, imported))
    return found


def test_no_import_crosses_a_layer() -> None:
    crossings = [
        f"{where}: {importer} imports {imported}: {why}"
        for where, importer, imported in all_imports()
        if (why := violation(importer, imported))
    ]
    assert not crossings, "\n".join(crossings)


def test_the_walk_sees_the_stage_packages_and_their_imports() -> None:
    """The check above would pass on an empty walk: make sure it reads the real tree."""
    importers = {importer for _, importer, _ in all_imports()}
    for stage in ("standardize", "resident", "region", "evacuation", "views"):
        assert f"renkei.stages.{stage}.stage" in importers
    assert ("renkei.runtime.builder", "renkei.contracts.stages") in {
        (importer, imported) for _, importer, imported in all_imports()
    }


@pytest.mark.parametrize(
    ("importer", "imported", "why"),
    [
        ("renkei.stages.region.stage", "renkei.stages.resident.stage", "another stage"),
        ("renkei.runtime.stage", "renkei.normalize.errors", "framework"),
        ("renkei.runtime.stage", "renkei.stages.standardize.records", "framework"),
        ("renkei.ops.status", "renkei.stages.views.stage", "framework"),
        ("renkei.deploy.k8s_topics", "renkei.cli.worker_cmd", "CLI"),
        ("renkei.cli.worker_cmd", "renkei.stages.views.pseudonym", None),
        ("staff_view.sources", "renkei.stages.views.stage", "app"),
        ("renkei.publish.rejects", "renkei.runtime.dlq", "app"),
        ("renkei.data_catalogue.live", "renkei.stages.views.stage", "app"),
        ("renkei.data_catalogue.live", "renkei.ops.scrape", None),
        ("renkei.contracts.stages", "renkei.runtime.builder", "low-level"),
        ("renkei.shared.routing", "faust", "low-level"),
        ("renkei.stages.resident.flow", "renkei.shared.values", None),
        ("renkei.disclosure.job", "renkei.stages.region.state", "app"),
        ("renkei.disclosure.job", "renkei.contracts.jobs", None),
    ],
)
def test_the_rules_catch_each_kind_of_crossing(
    importer: str, imported: str, why: str | None
) -> None:
    found = violation(importer, imported)
    assert (found is None) == (why is None), found
    if why is not None:
        assert found is not None and why in found
