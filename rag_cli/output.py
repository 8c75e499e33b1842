"""Terminal output shared by the commands: errors to stderr, JSON to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err_console = Console(stderr=True)
out_console = Console()


def print_error(message: str, hint: str = "") -> None:
    """The message and hint are plain text: brackets in them (`[llm]`, `[1]`) are printed, not markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"  [yellow]hint:[/] {escape(hint)}", highlight=False, soft_wrap=True)


def notice(message: str) -> None:
    """A one-line note on stderr (waiting for another process, going through a server)."""
    err_console.print(f"[dim]rag: {escape(message)}[/]", highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A transient progress bar on stderr, updated through the yielded `update(done, total, description)`;
    None when not `enabled`."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, description: str = "") -> None:
            bar.update(task, completed=done, total=total, description=description)

        yield update
