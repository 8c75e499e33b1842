"""Terminal output shared by the commands: errors to stderr, JSON to stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

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
