"""``renkei demo``: the main job on the local stack, end to end, for a first look."""

from __future__ import annotations

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.cli.schemas_cmd import apply
from renkei.cli.simulate_cmd import DEFAULT_MUNICIPALITY, simulate
from renkei.cli.stack_cmd import stack
from renkei.cli.tail_cmd import TailOptions, tail_topic


@click.command("demo")
@click.option(
    "--municipality",
    default=DEFAULT_MUNICIPALITY,
    show_default=True,
    help="Municipality code to simulate.",
)
@click.option("--residents", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--events", type=click.IntRange(min=0), default=600, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Decoded events to show per topic.",
)
@click.pass_context
def demo(
    ctx: click.Context, municipality: str, residents: int, events: int, seed: int, show: int
) -> None:
    """Start the stack, apply the schemas, simulate a municipality, show decoded events.

    1. `renkei stack up` — real Kafka and Apicurio Registry (downloaded once via Maven).
    2. `renkei schemas apply` — topics and <topic>-value subjects from schemas/avro/.
    3. `renkei simulate` — a synthetic municipality on real postal data.
    4. `renkei tail` — the first events of every department topic, decoded via the registry.
    """
    settings = settings_of(ctx)
    _step("1/4 local stack")
    ctx.invoke(stack.get_command(ctx, "up"))  # type: ignore[arg-type]
    _step("2/4 topics and schemas")
    ctx.invoke(apply)
    _step(f"3/4 simulate {residents} residents + {events} change events (seed {seed})")
    ctx.invoke(simulate, municipality=municipality, residents=residents, events=events, seed=seed)
    _step(f"4/4 decoded events ({show} per topic, oldest first)")
    from renkei.simulator import TOPICS

    catalogue = catalogue_of(settings)
    for spec in (catalogue.get(topic) for topic in TOPICS):
        click.secho(f"--- {spec.topic} (key: {spec.key_field})", bold=True)
        options = TailOptions(
            from_beginning=True, max_messages=show, idle_timeout=5.0, value_only=True
        )
        run(tail_topic(settings, spec.topic, options))
    click.echo(
        "\nNext: `renkei tail registry.resident.events --from-beginning` to read more, "
        "`renkei stack status` to see the servers, `renkei stack down` to stop them."
    )


def _step(title: str) -> None:
    click.secho(f"\n== {title}", fg="cyan", bold=True)
