"""Documents of a collection: upload (multipart, one or many files), list, delete."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from api.auth import require_api_key
from api.files import file_response, original_file
from api.schemas import DocumentList, DocumentOut, Job
from api.service import public_source
from api.state import AppState, StateDep
from api.uploads import Staged, clean_filename, publish_uploads, save_upload, too_large, upload_dir
from ingest.pipeline import Progress
from ingest.report import IngestReport
from rag_core.errors import InvalidInputError, LimitExceeded, NotFoundError
from vectorstore.records import DocumentRow

router = APIRouter(
    prefix="/v1/collections/{collection}/documents",
    tags=["documents"],
    dependencies=[Depends(require_api_key)],
)

MB = 1024 * 1024
BACKGROUND_DOC = "true: always answer 202 with a job; false: wait for the ingest; empty: by size and count"
_FORM_SLACK = MB
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


def _document(row: DocumentRow) -> DocumentOut:
    return DocumentOut(
        doc_id=row.doc_id,
        name=row.relpath,
        source=public_source(row.source, row),
        title=row.title,
        file_type=row.file_type,
        status="ready" if row.version else "failed",
        chunks=row.chunk_count,
        size=row.size,
        error=row.error,
        ingested=row.ingested,
    )


@router.get("", response_model=DocumentList)
async def list_documents(collection: str, state: StateDep) -> DocumentList:
    """Every document with its status: `ready` (indexed; `error` tells when a later update of its file
    failed and the previous version stays live) or `failed` (nothing indexed, `error` says why).
    `documents` + `failed` = the number of items."""

    def work() -> DocumentList:
        index = state.components.index
        info = index.collection(collection)
        items = [_document(r) for r in index.documents(info)]
        failed = sum(1 for d in items if d.status == "failed")
        return DocumentList(
            collection=info.name,
            documents=len(items) - failed,
            failed=failed,
            chunks=index.catalog.counts(info.name)["chunks"],
            items=items,
        )

    return await to_thread.run_sync(work)


@router.get(
    "/{doc_id}/file",
    response_class=FileResponse,
    responses={
        200: {"description": "the document's original file", "content": {"application/octet-stream": {}}},
        404: {"description": "unknown collection or document, nothing indexed, or the file is gone"},
    },
)
async def document_file(collection: str, doc_id: str, state: StateDep) -> Response:
    """The original file of an indexed document (what a citation's `doc_id` names). Only files the
    catalog holds as documents of this collection are served, by the path recorded at ingest."""
    found = await to_thread.run_sync(original_file, state, collection, doc_id)
    return file_response(*found)


@router.delete("/{doc_id}", status_code=204)
async def delete_document(collection: str, doc_id: str, state: StateDep) -> Response:
    """Remove a document: once this returns, no query can retrieve its summary, chunks or lexical entries."""

    def work() -> None:
        index = state.components.index
        info = index.collection(collection)
        row = index.catalog.document(info.name, doc_id)
        if row is None:
            raise NotFoundError(
                f"document {doc_id!r} is not in collection {info.name!r}",
                hint=f"list documents with GET /v1/collections/{info.name}/documents",
            )
        with index.catalog.writer_lock(info.key):
            index.delete_documents(info, [doc_id])
        uploaded = Path(row.source)
        if upload_dir(state.settings.data_dir, info.name).resolve() == uploaded.parent:
            uploaded.unlink(missing_ok=True)

    await to_thread.run_sync(work)
    return Response(status_code=204)


@router.post(
    "",
    status_code=201,
    response_model=Job,
    openapi_extra=UPLOAD_BODY,
    responses={202: {"model": Job, "description": "large upload: ingesting in the background"}},
)
async def upload_documents(
    collection: str,
    request: Request,
    state: StateDep,
    background: Annotated[bool | None, Query(description=BACKGROUND_DOC)] = None,
) -> JSONResponse:
    """Upload one or many files (multipart field `files`) and ingest them with the same pipeline as
    `rag ingest`. Small uploads answer 201 when done; large ones 202 with a job to poll at /v1/jobs/{id}."""
    limits = state.settings.api
    limit = int(limits.max_upload_mb * MB)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FORM_SLACK:
        raise too_large(limit)
    folder = upload_dir(state.settings.data_dir, collection)
    received = await _receive_files(_limited(request, limit + _FORM_SLACK), state, folder, limit)
    pipeline = state.components.ingest_pipeline
    try:
        info = await to_thread.run_sync(lambda: pipeline().open_collection(collection))
    except BaseException:
        await to_thread.run_sync(lambda: shutil.rmtree(received.staging, ignore_errors=True))
        raise
    paths, total = await to_thread.run_sync(publish_uploads, received)

    def run(progress: Progress) -> IngestReport:
        return pipeline().run(paths, info.name, progress=progress)

    job = state.jobs.submit(info.name, paths, run)
    if background is None:
        background = len(paths) > limits.background_files or total > limits.background_mb * MB
    if not background:
        job = await to_thread.run_sync(state.jobs.wait, job.id, limits.request_timeout_s)
    done = job.status in ("done", "failed")
    headers = {} if done else {"Location": f"/v1/jobs/{job.id}"}
    return JSONResponse(job.model_dump(), status_code=201 if done else 202, headers=headers)


def _limited(request: Request, limit: int) -> Request:
    """The same request, whose body read fails with 413 once it passes `limit` bytes."""
    received = 0
    receive = request.receive

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit - _FORM_SLACK)
        return message

    return Request(request.scope, counting)


async def _receive_files(request: Request, state: AppState, folder: Path, limit: int) -> Staged:
    """Save the request's files in a staging folder next to `folder`; nothing is published on failure."""
    max_files = state.settings.api.max_files
    try:
        form = await request.form(max_files=max_files, max_fields=100)
    except StarletteHTTPException as exc:
        if "files" in str(exc.detail).lower() and "maximum" in str(exc.detail).lower():
            raise _too_many(max_files) from None
        raise InvalidInputError(
            f"cannot read the upload: {exc.detail}", hint="send multipart/form-data"
        ) from None
    try:
        uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not uploads:
            raise InvalidInputError(
                "the request contains no files",
                hint="send multipart/form-data with one or more 'files' fields",
                http_status=422,
            )
        if len(uploads) > max_files:
            raise _too_many(max_files)
        names = _unique([clean_filename(u.filename or "") for u in uploads])
        staging = folder / f".staging-{secrets.token_hex(8)}"
        try:
            total = 0
            for upload, name in zip(uploads, names, strict=True):
                _, size = await to_thread.run_sync(save_upload, upload.file, staging, name, limit - total)
                total += size
        except BaseException:
            await to_thread.run_sync(lambda: shutil.rmtree(staging, ignore_errors=True))
            raise
        return Staged(staging, folder, names)
    finally:
        await form.close()


def _too_many(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"too many files: at most {limit} per request",
        hint="upload them in several requests, or raise RAG_API__MAX_FILES",
        http_status=413,
    )


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 2
        while candidate in seen:
            candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
            n += 1
        seen.add(candidate)
        result.append(candidate)
    return result
