"""The image's install step without Docker: the wheel `pip install .` builds in the Dockerfile,
installed (not editable) next to copies of what the Dockerfile COPYs, run with the Dockerfile's
ENV. Catches a data file missing from the wheel or a path the image does not have."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def dockerfile_env(app: Path, home: Path) -> dict[str, str]:
    """The Dockerfile's ENV, with /app and RENKEI_HOME moved under the test's folder."""
    block = re.search(r"^ENV (.+?)(?:\n(?!\s))", DOCKERFILE, flags=re.MULTILINE | re.DOTALL)
    assert block, "Dockerfile has no ENV"
    env = dict(re.findall(r"(\w+)=(\S+)", block.group(1)))
    env = {k: v.replace("/app", str(app), 1) if v.startswith("/app") else v for k, v in env.items()}
    env["RENKEI_HOME"] = str(home)
    return env


def copy_like_dockerfile(app: Path) -> None:
    """Copy each ``COPY src… dest`` of the Dockerfile from the checkout into ``app``."""
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, flags=re.MULTILINE):
        *sources, dest = line.split()
        target = app / dest.removeprefix("./")
        for source in sources:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target / path.name)


@pytest.mark.timeout(300)
def test_installed_image_layout_runs_the_platform(tmp_path: Path) -> None:
    wheels, site, app = tmp_path / "wheels", tmp_path / "site", tmp_path / "app"
    copy_like_dockerfile(app)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # the same build as the image's `pip install .` (setuptools from PyPI, isolated)
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(app)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("renkei-*.whl")
    install = [*pip, "install", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, timeout=120)
    # the checkout's editable install stays in site-packages: PYTHONPATH puts the wheel first
    env = {**os.environ, **dockerfile_env(app, tmp_path / "home"), "PYTHONPATH": str(site)}
    env.pop("RENKEI_TOPIC_PREFIX", None)

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=app, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    where = run(
        "-c",
        "import renkei, staff_view, pathlib; s = pathlib.Path(staff_view.__file__).parent;"
        "print(renkei.__file__); print(sorted(p.name for p in (s / 'static').iterdir()))",
    )
    assert where.splitlines()[0].startswith(str(site)), where
    assert "index.html" in where.splitlines()[1]
    assert "worker" in run("-c", "from renkei.cli import cli; cli(['--help'])")
    code_maps = run(
        "-c",
        "from renkei.settings import load_settings as s;"
        "from renkei.stages.standardize.code_maps import load_code_maps as m;"
        "print(len(m(s().code_maps_dir).by_source))",
    )
    assert int(code_maps) >= 1, "the image's standardize stage would start without code maps"
    # every stage App builds from the image's catalogue and agreements: the generated topics
    # equal the checked-in ones
    topics = run("-m", "renkei.deploy.k8s_topics")
    assert topics == (DEPLOY / "k8s" / "topics.yaml").read_text(encoding="utf-8")
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.key"))
