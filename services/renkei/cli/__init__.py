"""The ``renkei`` command line. Each verb lives in its own module; this one wires them up."""

from __future__ import annotations

import sys

import click

from renkei import __version__
from renkei.cli.agreements_cmd import agreements
from renkei.cli.audit_cmd import audit
from renkei.cli.bench_cmd import bench
from renkei.cli.catalogue_cmd import catalogue
from renkei.cli.cdc_cmd import cdc
from renkei.cli.demo_cmd import demo
from renkei.cli.disclosure_cmd import disclosure
from renkei.cli.dlq_cmd import dlq
from renkei.cli.identity_cmd import identity
from renkei.cli.normalize_cmd import normalize
from renkei.cli.publish_cmd import publish
from renkei.cli.ref_cmd import ref
from renkei.cli.schemas_cmd import schemas
from renkei.cli.simulate_cmd import simulate
from renkei.cli.stack_cmd import stack
from renkei.cli.status_cmd import status
from renkei.cli.tail_cmd import tail
from renkei.cli.views_cmd import views
from renkei.cli.worker_cmd import worker
from renkei.errors import RenkeiError
from renkei.settings import load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="renkei")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Renkei (連携): streaming data linkage for municipalities.

    Settings come from the environment: RENKEI_KAFKA_BOOTSTRAP (default 127.0.0.1:9092),
    RENKEI_SCHEMA_REGISTRY_URL (default http://127.0.0.1:8081/apis/ccompat/v7), RENKEI_HOME
    (local stack state, default <repo>/.renkei).
    """
    ctx.obj = load_settings()


for command in (
    stack,
    schemas,
    publish,
    cdc,
    simulate,
    tail,
    demo,
    bench,
    normalize,
    worker,
    agreements,
    audit,
    views,
    dlq,
    status,
    disclosure,
    ref,
    catalogue,
    identity,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point: Renkei errors become one clear line and exit code 1."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except RenkeiError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
