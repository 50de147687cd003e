"""The `cdss` command line. Commands are thin wrappers over library functions;
heavy packages are imported inside the commands that need them."""

from __future__ import annotations

import logging

import click

from cdss import __version__
from cdss.errors import CdssError
from cdss.settings import load_settings


class CdssClickError(click.ClickException):
    """A `CdssError` shown as `Error: <message>` with the error's own exit status."""

    def __init__(self, error: CdssError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_status


class CdssGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CdssError as error:
            raise CdssClickError(error) from error


@click.group(cls=CdssGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdss")
def cli() -> None:
    """Knowledge-graph clinical decision support.

    Suggestions are decision support for a clinician, never a diagnosis.
    """
    try:
        level = load_settings().log_level
    except CdssError as error:
        raise CdssClickError(error) from error
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register() -> None:
    from cli.audit import audit
    from cli.data import data
    from cli.deid import deid_command, eval_deid_command
    from cli.evaluate import evaluate
    from cli.gnn import gnn
    from cli.image import image
    from cli.ingest import ingest
    from cli.kg import kg
    from cli.learn import eval_learning_command, feedback, learn
    from cli.nlp import nlp
    from cli.rank import rank_command, related_command
    from cli.serve import keys, serve_command

    cli.add_command(data)
    cli.add_command(kg)
    cli.add_command(nlp)
    cli.add_command(ingest)
    cli.add_command(rank_command)
    cli.add_command(related_command)
    cli.add_command(evaluate)
    cli.add_command(gnn)
    cli.add_command(image)
    cli.add_command(serve_command)
    cli.add_command(keys)
    cli.add_command(audit)
    cli.add_command(deid_command)
    evaluate.add_command(eval_deid_command)
    evaluate.add_command(eval_learning_command)
    cli.add_command(learn)
    cli.add_command(feedback)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cdss")
