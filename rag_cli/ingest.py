"""`rag ingest PATH... [--collection NAME] [--prune] [--json]`"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ingest.report import STATUSES, FileOutcome, IngestReport
from rag.local.client import LocalServerClient
from rag.local.discovery import server_or_in_process
from rag_cli.output import err_console, notice, out_console, print_json, progress_bar
from rag_core.errors import ConfigError
from rag_core.settings import Settings, load_settings

Progress = Callable[[FileOutcome, int, int], None]
Run = Callable[[Progress | None], IngestReport]


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (walked recursively)")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="target collection")] = None,
    prune: Annotated[bool, typer.Option(help="remove documents whose files are gone from PATH")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON report on stdout")] = False,
) -> None:
    """Load, chunk, summarise and index documents. Unchanged files are skipped; changed ones replaced.
    With `rag serve` running on the same data dir, the server ingests the files (with its settings)."""
    settings = load_settings()
    for path in paths:
        if not path.expanduser().exists():
            raise ConfigError(
                f"{path}: no such file or folder", hint="check the path you passed to rag ingest"
            )
    name = collection or settings.collection
    with server_or_in_process(settings, write=True, say=notice) as server:
        if server is not None:
            report = _with_progress(_through_server(server, paths, name, prune), json_output)
        else:
            report = _with_progress(_in_process(settings, paths, name, prune), json_output)
    if json_output:
        print_json(report.to_json())
    else:
        _print_summary(report)
    if not report.ok:
        sys.exit(1)


def _through_server(server: LocalServerClient, paths: list[Path], name: str, prune: bool) -> Run:
    absolute = [p.expanduser().resolve() for p in paths]
    return lambda progress: server.ingest(absolute, name, prune=prune, progress=progress)


def _in_process(settings: Settings, paths: list[Path], name: str, prune: bool) -> Run:
    from rag.components import Components

    def run(progress: Progress | None) -> IngestReport:
        pipeline = Components(settings).ingest_pipeline()
        return pipeline.run(paths, name, prune=prune, progress=progress)

    return run


def _with_progress(run: Run, json_output: bool) -> IngestReport:
    with progress_bar("ingest", err_console.is_terminal and not json_output) as update:
        if update is None:
            return run(None)
        shown = update

        def progress(outcome: FileOutcome, done: int, total: int) -> None:
            shown(done, total, Path(outcome.path).name[:40])

        return run(progress)


def _print_summary(report: IngestReport) -> None:
    table = Table(title=f"collection {report.collection!r}", show_header=True)
    for status in STATUSES:
        table.add_column(status, justify="right")
    table.add_row(*(str(report.count(s)) for s in STATUSES))
    if report.reembedded_from:
        out_console.print(
            f"re-embedded the collection's documents (built with {report.reembedded_from}) "
            "with the configured embedder",
            highlight=False,
        )
    out_console.print(table)
    for outcome in report.failures:
        colour = "red" if outcome.status == "failed" else "yellow"
        out_console.print(f"[{colour}]{outcome.status}[/] {outcome.path}: {outcome.error}", highlight=False)
    out_console.print(
        f"{report.documents} documents, {report.chunks} chunks in the collection; "
        f"{report.new_chunks} chunks embedded in {report.seconds:.1f} s",
        highlight=False,
    )
