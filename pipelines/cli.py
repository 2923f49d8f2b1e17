"""The `zhengtai` command line.

Each domain package contributes its commands through a `commands` module exposing COMMANDS;
heavy imports happen inside the command functions so `zhengtai --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from pipelines import __version__
from pipelines.errors import UserError

# Command name → the module that defines it. Commands load lazily: `zhengtai ingest` must not pay for
# importing scipy, pandas or streamlit that other commands need.
COMMANDS = {
    "init": "pipelines.ingest.commands",
    "ingest": "pipelines.ingest.commands",
    "dictionary": "pipelines.ingest.commands",
    "generate": "pipelines.synth.commands",
    "index": "pipelines.index.commands",
    "build": "pipelines.analysis.commands",
    "scores": "pipelines.analysis.commands",
    "explain": "pipelines.analysis.commands",
    "evaluate": "pipelines.analysis.commands",
    "users": "pipelines.access.commands",
    "serve": "pipelines.access.commands",
    "demo": "pipelines.demo",
    "report": "pipelines.reports.commands",
    "classify": "pipelines.ml.commands",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module_name = COMMANDS.get(name)
        if module_name is None:
            return None
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                return None  # a part not installed in this checkout
            raise
        return next((c for c in getattr(module, "COMMANDS", ()) if c.name == name), None)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zhengtai")
def cli() -> None:
    """zhengtai (政态): ledgers in, political-ecology risk picture out."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and a non-zero exit."""
    # Everything zhengtai writes (warehouse, its WAL, snapshots, reports, exports) is the owner's alone:
    # the records are whistle-blower and discipline cases.
    os.umask(0o077)
    try:
        cli.main(args=argv, prog_name="zhengtai", standalone_mode=False)
    except UserError as exc:
        click.echo(f"错误 error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted; the database is unchanged by the unfinished run", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
