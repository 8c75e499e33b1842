"""Background ingest jobs: one worker thread runs them in order; `GET /v1/jobs/{id}` reads their progress.
Each change of a job is written to the job store (SQLite in the data dir, or the PostgreSQL server that
replicas share), so a job started on one replica is polled on any, and its outcome outlives a restart.

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
from vectorstore.database import open_database
from vectorstore.schema import JOB_MIGRATIONS, SQLITE_JOBS

log = logging.getLogger("rag.api.jobs")

IngestRun = Callable[[Progress], IngestReport]
OnFile = Callable[[FileOutcome], None]
OnDone = Callable[[Job], None]


UNFINISHED = ("queued", "running")
BEAT_S = 10.0
STALE_S = 60.0


class JobStore:
    """`where`: the SQLite file, or a postgresql:// URL.

    A job's row is touched at least every `BEAT_S` while its process runs it (`beat`); an unfinished job
    untouched for `stale_s` belongs to a process that died (killed, host gone) and reads as failed."""

    def __init__(self, where: Path | str, *, keep: int = 500, stale_s: float = STALE_S) -> None:
        self.db = open_database(where, name="jobs", sqlite_schema=SQLITE_JOBS, migrations=JOB_MIGRATIONS)
        self.keep = keep
        self.stale_s = stale_s

    def put(self, job: Job) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO jobs VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET data=excluded.data, "
                "updated=excluded.updated",
                (job.id, job.collection, job.model_dump_json(), time.time()),
            )

    def get(self, job_id: str) -> Job | None:
        row = self.db.row("SELECT data, updated FROM jobs WHERE id=?", (job_id,))
        if row is None:
            return None
        job = Job.model_validate_json(row["data"])
        silent = time.time() - float(row["updated"])
        if job.status in UNFINISHED and silent > self.stale_s:
            job.status, job.current = "failed", ""
            job.error = (
                f"the server running this job stopped before it finished (no sign of it for {silent:.0f} s: "
                "killed, restarted or its host is gone); documents it had finished are searchable, the "
                "rest are not: upload those files again"
            )
        return job

    def beat(self, job_ids: list[str]) -> None:
        """Mark these jobs as still being worked on by a live process."""
        if not job_ids:
            return
        marks = ",".join("?" * len(job_ids))
        with self.db.transaction() as tx:
            tx.execute(f"UPDATE jobs SET updated=? WHERE id IN ({marks})", (time.time(), *job_ids))

    def prune(self) -> None:
        """Keep the `keep` most recent jobs."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM jobs WHERE id NOT IN (SELECT id FROM jobs ORDER BY updated DESC LIMIT ?)",
                (self.keep,),
            )

    def close(self) -> None:
        self.db.close()


class JobRegistry:
    def __init__(
        self,
        store: JobStore,
        *,
        keep: int = 500,
        on_file: OnFile | None = None,
        on_done: OnDone | None = None,
    ) -> None:
        self.store = store
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._keep = keep
        self._on_file = on_file
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-job")
        self._stopped = threading.Event()
        self._heart = threading.Thread(target=self._beat, name="ingest-job-heartbeat", daemon=True)
        self._heart.start()

    def submit(self, collection: str, paths: list[Path], run: IngestRun) -> Job:
        job = Job(
            id=uuid.uuid4().hex,
            collection=collection,
            status="queued",
            files_total=len(paths),
            created=time.time(),
        )
        names = {str(p): p.name for p in paths}
        self.store.put(job)
        self.store.prune()
        with self._lock:
            self._jobs[job.id] = job
            self._done[job.id] = threading.Event()
            while len(self._jobs) > self._keep:
                old, _ = self._jobs.popitem(last=False)
                self._done.pop(old, None)
        self._pool.submit(self._run, job.id, names, run)
        return self.get(job.id)

    def get(self, job_id: str) -> Job:
        """A job of this process (from memory), or of any replica sharing the store."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                return job.model_copy(deep=True)
        stored = self.store.get(job_id)
        if stored is None:
            raise NotFoundError(
                f"job {job_id!r} does not exist",
                hint="job ids come from POST /v1/collections/{c}/documents; the last 500 jobs are kept",
            )
        return stored

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        event = self._done.get(job_id)
        if event is not None:
            event.wait(timeout)
        return self.get(job_id)

    def shutdown(self) -> None:
        self._stopped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _beat(self) -> None:
        while not self._stopped.wait(BEAT_S):
            with self._lock:
                unfinished = [job.id for job in self._jobs.values() if job.status in UNFINISHED]
            try:
                self.store.beat(unfinished)
            except RagError as exc:  # the store is down: the next beat tries again
                log.warning("job heartbeat: %s", exc)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            for key, value in changes.items():
                setattr(job, key, value)
            snapshot = job.model_copy(deep=True)
        try:
            self.store.put(snapshot)
        except RagError as exc:  # the store is down: this process still tracks the job
            log.warning("job %s: %s", job_id, exc)

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
