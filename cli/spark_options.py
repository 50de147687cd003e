"""The options every command that can run on Spark takes: which engine, which master, how many partitions."""

from __future__ import annotations

from collections.abc import Callable

import click


def engine_options(*, spark_does: str, items: str) -> Callable:
    """--engine local|spark, --master and --partitions; `spark_does` says what the executors do, `items` what the
    partitions hold."""
    options = (
        click.option(
            "--engine",
            type=click.Choice(["local", "spark"]),
            default="local",
            show_default=True,
            help=f"local: this process; spark: {spark_does}.",
        ),
        click.option(
            "--master", default="local[2]", show_default=True, help="Spark master: local[N], spark://..., yarn."
        ),
        click.option(
            "--partitions", type=int, help=f"Spark: partitions to spread the {items} over (default: 2 a core)."
        ),
    )

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
