"""The `rag` command. Each command group lives in its own module; errors become a message and an exit code:
0 success, 1 some work failed (a file, a backend), 2 usage or configuration error."""

from __future__ import annotations

import os
import sys
import traceback

import click
import typer

from rag_cli import admin, ask, ingest, serve
from rag_cli import eval as eval_cmd
from rag_cli.output import print_error, print_json
from rag_core.errors import ConfigError, InvalidInputError, NotFoundError, RagError

app = typer.Typer(
    name="rag",
    help="Local, private question answering over your documents, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"rag {version('local-rag')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="print the version"
    ),
) -> None:
    """Local, private question answering over your documents, with citations."""


ingest.register(app)
ask.register(app)
admin.register(app)
serve.register(app)
eval_cmd.register(app)

USAGE_ERRORS = (ConfigError, InvalidInputError, NotFoundError)


def main() -> None:
    as_json = "--json" in sys.argv[1:]

    def fail(kind: str, message: str, hint: str = "", code: int = 1) -> None:
        """The error as text on stderr, or with --json as the API's error shape on stdout."""
        if as_json:
            print_json({"error": {"type": kind, "message": message, **({"hint": hint} if hint else {})}})
        else:
            print_error(message, hint)
        sys.exit(code)

    try:
        app(standalone_mode=False)
    except (click.exceptions.Abort, typer.Abort):  # typer >= 0.2x vendors click as typer._click
        fail("aborted", "aborted", code=130)
    except (click.exceptions.ClickException, typer.TyperException) as exc:
        show = getattr(exc, "show", None)
        if show is not None and not as_json:
            show()
            sys.exit(2)
        fail(
            "usage_error", exc.format_message() if isinstance(exc, click.ClickException) else str(exc), code=2
        )
    except RagError as exc:
        fail(exc.kind, exc.message, exc.hint, 2 if isinstance(exc, USAGE_ERRORS) else 1)
    except KeyboardInterrupt:
        fail("interrupted", "interrupted", code=130)
    except Exception as exc:
        if os.environ.get("RAG_DEBUG"):
            traceback.print_exc()
        fail(
            "internal_error",
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with RAG_DEBUG=1 for a traceback",
        )
