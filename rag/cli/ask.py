"""`rag ask "QUESTION" [--collection NAME] [--json] [--retrieval-only] [--source P] [--type T]
[--after DATE] [--before DATE]`"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from rag.cli.output import out_console, print_json
from rag.components import Components
from rag.query.pipeline import Delta, Final
from rag.query.request import Filters, QueryRequest, epoch_seconds
from rag.settings import load_settings
from rag.types import QueryResponse

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)


def ask(
    question: Annotated[str, typer.Argument(help="your question, in any language")],
    collection: Annotated[str | None, typer.Option("--collection", "-c")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the POST /v1/query response")] = False,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="return the evidence without generating an answer")
    ] = False,
    top_k: Annotated[int | None, typer.Option(help="evidence passages for the LLM")] = None,
    source: Annotated[str | None, typer.Option(help="only documents whose path starts with this")] = None,
    file_type: Annotated[
        list[str] | None, typer.Option("--type", help="only these file types (pdf, md...)")
    ] = None,
    after: Annotated[
        datetime | None,
        typer.Option(help="only files modified after this date or time (UTC)", formats=DATE_FORMATS),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(help="only files modified before this date or time (UTC)", formats=DATE_FORMATS),
    ] = None,
) -> None:
    """Answer a question from the indexed documents, citing the passages it used."""
    settings = load_settings()
    pipeline = Components(settings).query_pipeline()
    request = QueryRequest(
        question=question,
        collection=collection or settings.collection,
        top_k=top_k,
        filters=Filters(
            source_prefix=source,
            file_types=tuple(file_type or ()),
            modified_after=epoch_seconds(after),
            modified_before=epoch_seconds(before),
        ),
        retrieval_only=retrieval_only,
    )
    if json_output:
        print_json(pipeline.run(request).model_dump())
        return
    response: QueryResponse | None = None
    for event in pipeline.stream(request):
        if isinstance(event, Delta) and not retrieval_only:
            continue
        if isinstance(event, Final):
            response = event.response
    assert response is not None
    _print(response, retrieval_only)
    if not response.context:
        why = (
            "no passage matches the question"
            if request.filters.empty
            else "no indexed document matches the filters (--source, --type, --after, --before)"
        )
        out_console.print(f"[yellow]note: {why}[/]")


def _print(response: QueryResponse, retrieval_only: bool) -> None:
    if not retrieval_only:
        style = "yellow" if response.refused else "bold"
        out_console.print(response.answer, style=style, highlight=False)
        out_console.print()
    items = response.context if retrieval_only else response.citations
    label = "evidence" if retrieval_only else "sources"
    if items:
        out_console.print(f"[dim]{label}:[/]")
    for item in items:
        where = item.source + (f", page {item.page}" if item.page is not None else "")
        section = f" — {item.section}" if item.section else ""
        out_console.print(f"  [{item.id}] {where}{section}", highlight=False, soft_wrap=True)
        snippet = " ".join(item.text.split())
        out_console.print(
            f"      [dim]{snippet[:300]}{'…' if len(snippet) > 300 else ''}[/]", highlight=False
        )
    if not retrieval_only and response.uncited and not response.refused:
        out_console.print("[yellow]note: no sentence of this answer could be tied to a source[/]")
    sys.stdout.flush()
