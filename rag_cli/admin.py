"""`rag collections`, `rag documents`, `rag models`: look at and manage what is stored and configured."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rag.local.discovery import server_or_in_process
from rag_cli.output import notice, out_console, print_json
from rag_core.settings import load_settings
from rag_models.embeddings import embedder_name

if TYPE_CHECKING:
    from rag.availability import Availability
    from rag.components import Components


def _components() -> Components:
    """Listing collections and documents reads the catalog (SQLite, safe beside a running server)."""
    from rag.components import Components

    return Components(load_settings())


collections_app = typer.Typer(help="List or delete collections.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(collections_app, name="collections")
    app.command("documents")(documents)
    app.command("models")(models)


JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON on stdout")]


@collections_app.command("list")
def list_collections(json_output: JsonFlag = False) -> None:
    """Collections with their document and chunk counts."""
    components = _components()
    rows = []
    for info in components.catalog.collections():
        counts = components.catalog.counts(info.name)
        rows.append({"name": info.name, "embedder": info.embedder, **counts})
    if json_output:
        print_json(rows)
        return
    table = Table("name", "documents", "chunks", "embedder")
    for r in rows:
        table.add_row(str(r["name"]), str(r["documents"]), str(r["chunks"]), str(r["embedder"]))
    out_console.print(table)


@collections_app.command("delete")
def delete_collection(
    name: str, yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False
) -> None:
    """Delete a collection: its summaries, chunks and lexical index (through `rag serve` when one runs on
    the data dir, which also removes the files uploaded into it)."""
    components = _components()
    components.index.collection(name)
    if not yes:
        typer.confirm(f"delete collection {name!r} and everything indexed in it?", abort=True)
    with server_or_in_process(components.settings, write=True, say=notice) as server:
        if server is not None:
            server.delete_collection(name)
        else:
            components.index.delete_collection(name)
    out_console.print(f"deleted collection {name!r}")


def documents(
    collection: Annotated[str | None, typer.Option("--collection", "-c")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Documents of a collection with their status (the manifest)."""
    components = _components()
    info = components.index.collection(collection or components.settings.collection)
    rows = components.index.documents(info)
    if json_output:
        print_json(
            [
                {
                    "doc_id": r.doc_id,
                    "source": r.source,
                    "title": r.title,
                    "file_type": r.file_type,
                    "status": "failed" if r.error and not r.version else "ready",
                    "chunks": r.chunk_count,
                    "content_hash": r.content_hash,
                    "error": r.error,
                    "ingested": r.ingested,
                }
                for r in rows
            ]
        )
        return
    table = Table("document", "type", "chunks", "ingested", "status")
    for r in rows:
        when = dt.datetime.fromtimestamp(r.ingested).strftime("%Y-%m-%d %H:%M") if r.ingested else "-"
        status = f"[red]{r.error}[/]" if r.error else "ready"
        table.add_row(r.relpath, r.file_type, str(r.chunk_count), when, status)
    out_console.print(table)


def models(json_output: JsonFlag = False) -> None:
    """The configured LLM, embedder and reranker: whether each is ready, and whether it is available
    offline (bundled, a local file, the Hugging Face cache) or needs a download. Nothing is loaded or
    downloaded."""
    from rag.availability import embedder_availability, llm_availability, reranker_availability
    from rag_models.llm.factory import describe_settings

    settings = load_settings()
    status = describe_settings(settings.llm)
    llm_where = llm_availability(settings.llm)
    embedder_where = embedder_availability(settings.embedding)
    reranker_where = reranker_availability(settings.rerank)
    embedder = embedder_name(settings.embedding.model)
    reranker = settings.rerank.model or "built-in"
    data = {
        "llm": {
            "backend": status.backend,
            "model": status.model,
            "ready": status.ready,
            "detail": status.detail,
            "context_window": status.context_window,
            "available": llm_where.as_dict(),
        },
        "embedding": {"model": embedder, "available": embedder_where.as_dict()},
        "reranker": {"model": reranker, "available": reranker_where.as_dict()},
    }
    if json_output:
        print_json(data)
        return
    mark = "[green]ready[/]" if status.ready else f"[red]not ready[/]: {escape(status.detail)}"
    out_console.print(
        f"LLM       {status.backend}  {escape(status.model)}  {mark}", highlight=False, soft_wrap=True
    )
    _print_where(llm_where)
    if status.context_window:
        out_console.print(
            f"          context window {status.context_window} tokens", highlight=False, soft_wrap=True
        )
    out_console.print(f"embedder  {escape(embedder)}", highlight=False, soft_wrap=True)
    _print_where(embedder_where)
    out_console.print(f"reranker  {escape(reranker)}", highlight=False, soft_wrap=True)
    _print_where(reranker_where)


def _print_where(where: Availability) -> None:
    color = {True: "green", False: "red", None: "default"}[where.offline]
    out_console.print(f"          [{color}]{escape(where.describe())}[/]", highlight=False, soft_wrap=True)
