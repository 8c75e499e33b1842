"""`rag ask "QUESTION" [--collection NAME] [--json] [--retrieval-only] [--source P] [--type T]
[--after DATE] [--before DATE]`"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from rag.local.discovery import server_or_in_process
from rag_cli.output import notice, out_console, print_json
from rag_core.settings import Settings, load_settings
from rag_core.types import QueryResponse

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
    """Answer a question from the indexed documents, citing the passages it used. With `rag serve`
    running on the same data dir, the question goes to the server (its models are loaded already)."""
    settings = load_settings()
    question_filters = _Filters(source, tuple(file_type or ()), after, before)
    with server_or_in_process(settings, write=False, say=notice) as server:
        if server is not None:
            body = _request_body(settings, question, collection, top_k, question_filters, retrieval_only)
            result = server.query(body)
        else:
            result = _ask_in_process(settings, question, collection, top_k, question_filters, retrieval_only)
    if json_output:
        print_json(result)
        return
    response = QueryResponse.model_validate(result)
    _print(response, retrieval_only)
    if not response.context:
        why = (
            "no passage matches the question"
            if question_filters.empty
            else "no indexed document matches the filters (--source, --type, --after, --before)"
        )
        out_console.print(f"[yellow]note: {why}[/]")


@dataclass(frozen=True, slots=True)
class _Filters:
    source: str | None
    file_types: tuple[str, ...]
    after: datetime | None
    before: datetime | None

    @property
    def empty(self) -> bool:
        return not (self.source or self.file_types or self.after or self.before)


def _utc(moment: datetime | None) -> str | None:
    """A CLI date is UTC unless it names a zone, as in-process; the server reads ISO 8601."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _request_body(
    settings: Settings,
    question: str,
    collection: str | None,
    top_k: int | None,
    filters: _Filters,
    retrieval_only: bool,
) -> dict[str, Any]:
    """The POST /v1/query body of this command."""
    return {
        "question": question,
        "collection": collection or settings.collection,
        "top_k": top_k,
        "filters": {
            "source_prefix": filters.source,
            "file_types": list(filters.file_types),
            "modified_after": _utc(filters.after),
            "modified_before": _utc(filters.before),
        },
        "options": {"retrieval_only": retrieval_only},
    }


def _ask_in_process(
    settings: Settings,
    question: str,
    collection: str | None,
    top_k: int | None,
    filters: _Filters,
    retrieval_only: bool,
) -> dict[str, Any]:
    """The pipeline in this process (models loaded here); the POST /v1/query response."""
    from rag.components import Components
    from rag.query.request import Filters, QueryRequest, epoch_seconds

    pipeline = Components(settings).query_pipeline()
    request = QueryRequest(
        question=question,
        collection=collection or settings.collection,
        top_k=top_k,
        filters=Filters(
            source_prefix=filters.source,
            file_types=filters.file_types,
            modified_after=epoch_seconds(filters.after),
            modified_before=epoch_seconds(filters.before),
        ),
        retrieval_only=retrieval_only,
    )
    return pipeline.run(request).model_dump()


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
