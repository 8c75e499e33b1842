"""The `rag` command. Each command group lives in its own module; errors become a message and an exit code:
0 success, 1 some work failed (a file, a backend), 2 usage or configuration error."""

from __future__ import annotations

import os
import sys
import traceback

import click
import typer

from rag.cli import admin, ask, ingest, serve
from rag.cli import eval as eval_cmd
from rag.cli.output import print_error
from rag.errors import ConfigError, InvalidInputError, NotFoundError, RagError

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
    try:
        app(standalone_mode=False)
    except (click.exceptions.Abort, typer.Abort):  # typer >= 0.2x vendors click as typer._click
        print_error("aborted")
        sys.exit(130)
    except (click.exceptions.ClickException, typer.TyperException) as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print_error(str(exc))
        sys.exit(2)
    except RagError as exc:
        print_error(exc.message, exc.hint)
        sys.exit(2 if isinstance(exc, USAGE_ERRORS) else 1)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("RAG_DEBUG"):
            traceback.print_exc()
        print_error(f"unexpected {type(exc).__name__}: {exc}", "run again with RAG_DEBUG=1 for a traceback")
        sys.exit(1)
