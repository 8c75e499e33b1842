"""Background ingest jobs: one worker thread runs them in order; `GET /v1/jobs/{id}` reads their progress.

job = registry.submit("handbook", [path], run=lambda progress: pipeline.run(paths, "handbook",
                      progress=progress))
registry.get(job.id).files_done
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api.schemas import Job, JobFile
from ingest.pipeline import Progress
from ingest.report import FileOutcome, IngestReport
from rag_core.errors import NotFoundError, RagError

log = logging.getLogger("rag.api.jobs")

IngestRun = Callable[[Progress], IngestReport]
OnFile = Callable[[FileOutcome], None]
OnDone = Callable[[Job], None]


class JobRegistry:
    def __init__(
        self, *, keep: int = 500, on_file: OnFile | None = None, on_done: OnDone | None = None
    ) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._keep = keep
        self._on_file = on_file
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-job")

    def submit(self, collection: str, paths: list[Path], run: IngestRun) -> Job:
        job = Job(
            id=uuid.uuid4().hex,
            collection=collection,
            status="queued",
            files_total=len(paths),
            created=time.time(),
        )
        names = {str(p): p.name for p in paths}
        with self._lock:
            self._jobs[job.id] = job
            self._done[job.id] = threading.Event()
            while len(self._jobs) > self._keep:
                old, _ = self._jobs.popitem(last=False)
                self._done.pop(old, None)
        self._pool.submit(self._run, job.id, names, run)
        return self.get(job.id)

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(
                    f"job {job_id!r} does not exist",
                    hint="job ids come from POST /v1/collections/{c}/documents; jobs are kept in memory "
                    "until the server restarts",
                )
            return job.model_copy(deep=True)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        event = self._done.get(job_id)
        if event is not None:
            event.wait(timeout)
        return self.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                for key, value in changes.items():
                    setattr(job, key, value)

    def _run(self, job_id: str, names: dict[str, str], run: IngestRun) -> None:
        self._update(job_id, status="running", started=time.time())
        files: list[JobFile] = []

        def progress(outcome: FileOutcome, done: int, total: int) -> None:
            files.append(
                JobFile(
                    name=names.get(outcome.path, Path(outcome.path).name),
                    status=outcome.status,
                    error=outcome.error,
                    chunks=outcome.chunks,
                    doc_id=outcome.doc_id,
                )
            )
            self._update(
                job_id, files=list(files), files_done=done, files_total=total, current=files[-1].name
            )
            if self._on_file is not None:
                self._on_file(outcome)

        try:
            report = run(progress)
            failed = report.count("failed")
            status = "failed" if failed and failed == len(report.outcomes) else "done"
            summary = report.to_json()
            for failure in summary["failures"]:  # the upload's file name, not its path on the server
                failure["path"] = names.get(failure["path"], Path(failure["path"]).name)
            self._update(job_id, status=status, report=summary, current="")
        except RagError as exc:
            self._update(job_id, status="failed", error=str(exc), current="")
        except Exception as exc:
            log.exception("ingest job %s crashed", job_id)
            self._update(job_id, status="failed", error=f"internal error: {type(exc).__name__}", current="")
        finally:
            self._update(job_id, finished=time.time())
            event = self._done.get(job_id)
            if event is not None:
                event.set()
            with self._lock:
                job = self._jobs.get(job_id)
            if self._on_done is not None and job is not None:
                self._on_done(job)
