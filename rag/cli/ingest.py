"""`rag ingest PATH... [--collection NAME] [--prune] [--json]`"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.report import STATUSES, FileOutcome, IngestReport
from rag.cli.output import err_console, out_console, print_json
from rag.components import Components
from rag.settings import load_settings


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (walked recursively)")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="target collection")] = None,
    prune: Annotated[bool, typer.Option(help="remove documents whose files are gone from PATH")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON report on stdout")] = False,
) -> None:
    """Load, chunk, summarise and index documents. Unchanged files are skipped; changed ones replaced."""
    settings = load_settings()
    pipeline = Components(settings).ingest_pipeline()
    name = collection or settings.collection
    if err_console.is_terminal and not json_output:
        with Progress(
            TextColumn("[bold]ingest[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=None)

            def progress(outcome: FileOutcome, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=Path(outcome.path).name[:40])

            report = pipeline.run(paths, name, prune=prune, progress=progress)
    else:
        report = pipeline.run(paths, name, prune=prune)
    if json_output:
        print_json(report.to_json())
    else:
        _print_summary(report)
    if not report.ok:
        sys.exit(1)


def _print_summary(report: IngestReport) -> None:
    table = Table(title=f"collection {report.collection!r}", show_header=True)
    for status in STATUSES:
        table.add_column(status, justify="right")
    table.add_row(*(str(report.count(s)) for s in STATUSES))
    out_console.print(table)
    for outcome in report.failures:
        colour = "red" if outcome.status == "failed" else "yellow"
        out_console.print(f"[{colour}]{outcome.status}[/] {outcome.path}: {outcome.error}", highlight=False)
    out_console.print(
        f"{report.documents} documents, {report.chunks} chunks in the collection; "
        f"{report.new_chunks} chunks embedded in {report.seconds:.1f} s",
        highlight=False,
    )
