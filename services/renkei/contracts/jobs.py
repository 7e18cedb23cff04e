"""The job registry: Renkei's scheduled jobs, which are not streaming stages.

A job reads a consistent cut of its input topics and publishes a result on a schedule; it keeps
no faust App, table or consumer group (so ``renkei worker`` and the stage registry do not list
it). ``renkei disclosure`` runs the one job there is. Like the stage registry, the names here
(job, topics, audit kind) are contracts with running deployments, pinned by
``tests/test_contract_names.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from renkei.contracts.stages import RESIDENT_FACTS
from renkei.errors import ConfigurationError


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job."""

    name: str
    title: str
    entry: str
    """``module:function`` taking one snapshot: ``function(settings, rules, ...)``."""
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    every_default: str
    """The default interval of ``renkei <job> run`` (``1d``: daily)."""
    audit_kind: str
    """The audit log record written after each publication."""


_SPECS = (
    JobSpec(
        name="disclosure",
        title=(
            "開示制御 (disclosure control): audited region snapshots for every reader outside "
            "the platform's own staff"
        ),
        entry="renkei.disclosure.job:take_snapshot",
        inputs=(RESIDENT_FACTS,),
        outputs=("derived.region-snapshot",),
        every_default="1d",
        audit_kind="disclosure.released",
    ),
)

JOBS: dict[str, JobSpec] = {spec.name: spec for spec in _SPECS}


def job_spec(name: str) -> JobSpec:
    """The registry entry of ``name`` (ConfigurationError naming the jobs otherwise)."""
    try:
        return JOBS[name]
    except KeyError:
        raise ConfigurationError(f"unknown job {name!r}; the jobs are {', '.join(JOBS)}") from None
