"""The `zhengtai` command line.

Each domain package contributes its commands through a `commands` module exposing COMMANDS;
heavy imports happen inside the command functions so `zhengtai --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import click

from pipelines import __version__
from pipelines.errors import UserError

COMMAND_MODULES = (
    "pipelines.ingest.commands",
    "pipelines.synth.commands",
    "pipelines.index.commands",
    "pipelines.analysis.commands",
    "pipelines.access.commands",
    "pipelines.demo",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zhengtai")
def cli() -> None:
    """zhengtai (政态): ledgers in, political-ecology risk picture out."""


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):  # a part not built yet; other import errors are bugs
                continue
            raise
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and a non-zero exit."""
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
