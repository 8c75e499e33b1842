"""`GET /v1/jobs/{id}`: progress of a background ingest."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import require_api_key
from api.schemas import Job
from api.state import StateDep

router = APIRouter(prefix="/v1/jobs", tags=["documents"], dependencies=[Depends(require_api_key)])


@router.get("/{job_id}", response_model=Job)
async def get_job(job_id: str, state: StateDep) -> Job:
    """Status (queued, running, done, failed), files done of total, per-file outcomes, the final report."""
    return state.jobs.get(job_id)
