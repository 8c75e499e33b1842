"""Knowledge bases: `GET/POST /v1/collections`, `GET/DELETE /v1/collections/{name}`."""

from __future__ import annotations

import shutil

from anyio import to_thread
from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.auth import require_api_key
from api.schemas import CollectionCreate, CollectionOut
from api.state import AppState, StateDep
from api.uploads import upload_dir
from vectorstore.records import CollectionInfo

router = APIRouter(prefix="/v1/collections", tags=["collections"], dependencies=[Depends(require_api_key)])


def describe(state: AppState, info: CollectionInfo) -> CollectionOut:
    catalog = state.components.catalog
    counts = catalog.counts(info.name)
    return CollectionOut(
        name=info.name,
        documents=counts["documents"],
        failed=catalog.failed_count(info.name),
        chunks=counts["chunks"],
        embedder=info.embedder,
        created=info.created,
    )


@router.get("", response_model=list[CollectionOut])
async def list_collections(state: StateDep) -> list[CollectionOut]:
    def work() -> list[CollectionOut]:
        return [describe(state, info) for info in state.components.catalog.collections()]

    return await to_thread.run_sync(work)


@router.post(
    "", status_code=201, response_model=CollectionOut, responses={200: {"description": "it existed"}}
)
async def create_collection(body: CollectionCreate, state: StateDep) -> JSONResponse:
    """Create an empty collection (uploading into a new name creates it too). 200 if it already exists."""

    def work() -> tuple[CollectionOut, bool]:
        existed = state.components.catalog.collection(body.name.strip()) is not None
        info = state.components.ingest_pipeline().open_collection(body.name)
        return describe(state, info), existed

    out, existed = await to_thread.run_sync(work)
    return JSONResponse(out.model_dump(), status_code=200 if existed else 201)


@router.get("/{name}", response_model=CollectionOut)
async def get_collection(name: str, state: StateDep) -> CollectionOut:
    return await to_thread.run_sync(lambda: describe(state, state.components.index.collection(name)))


@router.delete("/{name}", status_code=204)
async def delete_collection(name: str, state: StateDep) -> Response:
    """Delete a collection: its summaries, chunks, lexical index and uploaded files."""

    def work() -> None:
        index = state.components.index
        info = index.collection(name)
        with index.catalog.writer_lock(info.key):
            index.delete_collection(name)
        shutil.rmtree(upload_dir(state.settings.data_dir, info.name), ignore_errors=True)

    await to_thread.run_sync(work)
    return Response(status_code=204)
