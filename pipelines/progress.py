"""Progress of the long commands (ingest, build) on stderr: a rich bar on a terminal, one plain line per step when
stderr is a pipe or a log file, nothing with --quiet. Both say how many rows went through and at what rate."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """`with Reporter("导入", total=bytes) as p: p.step(...); p.advance(n, rows=r); p.line(...)`."""

    def __init__(self, command: str, total: float, *, quiet: bool = False, intro: str = ""):
        self.command = command
        # said with the first step, not before: a command that stops on bad input says one line, its error
        self.intro = intro
        self.total = total
        self.quiet = quiet
        self.console = Console(stderr=True, quiet=quiet)
        self.terminal = self.console.is_terminal and not quiet
        self.rows = 0
        self.t0 = time.perf_counter()
        self.bar: Progress | None = None
        self.task = None

    def __enter__(self) -> "Reporter":
        if self.terminal:
            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=self.console,
                                transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.command, total=self.total or None, rate="")
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def rate(self) -> str:
        seconds = time.perf_counter() - self.t0
        return f"{self.rows:,}行，{self.rows / seconds:,.0f}行/秒" if self.rows and seconds > 0 else ""

    def step(self, text: str) -> None:
        """What is being done now: the bar's description, or a plain line."""
        self._introduce()
        if self.bar is not None:
            self.bar.update(self.task, description=f"{self.command}：{text}")
        elif not self.quiet:
            self._plain(text)

    def advance(self, amount: float, rows: int = 0) -> None:
        self.rows += rows
        if self.bar is not None:
            self.bar.update(self.task, advance=amount, rate=self.rate())

    def line(self, text: str) -> None:
        """A line that stays: above the bar on a terminal, a plain line otherwise."""
        self._introduce()
        if self.bar is not None:
            self.bar.console.print(f"{self.command}：{text}", highlight=False)
        elif not self.quiet:
            self._plain(text)

    def _introduce(self) -> None:
        if self.intro:
            intro, self.intro = self.intro, ""
            self.line(intro)

    def _plain(self, text: str) -> None:
        click.echo(f"{self.command}：{text}（{time.perf_counter() - self.t0:.1f}秒）", err=True)
        sys.stderr.flush()
