"""The database under the catalog and the conversations: a SQLite file in the data dir (the default) or a
PostgreSQL server (`RAG_DATABASE__URL=postgresql://...`, for replicas on several hosts).

Both are used through one small interface: `rows`/`row` for reads, `transaction()` for writes (the
transaction takes the write lock at once), `writer_lock(key)` for one writer per collection across
processes and hosts (a file lock, or a PostgreSQL advisory lock held by the writer's session, so a killed
writer releases it). SQL is written once, with `?` placeholders, in the subset both databases speak
(`INSERT ... ON CONFLICT`, `RETURNING`); rows are read by column name.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from filelock import FileLock, Timeout

from rag_core.errors import BackendUnavailable
from vectorstore.sqlite_file import SqliteFile

Row = Mapping[str, Any]
_POOL_WAIT_S = 5.0


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Transaction(Protocol):
    def execute(self, sql: str, args: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, args: Any, /) -> Any: ...


class Database(Protocol):
    dialect: str  # "sqlite" | "postgresql"
    where: str  # what to name in an error: the file, or the server without its password

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...

    def row(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def writer_lock(self, key: str, *, timeout: float = 600) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


def _busy(timeout: float) -> BackendUnavailable:
    return BackendUnavailable(
        f"another process has been writing to this collection for over {timeout:.0f} s",
        hint="wait for the other ingest to finish, or stop it",
    )


class SqliteDatabase(SqliteFile):
    dialect = "sqlite"

    def __init__(self, path: Path, schema: str, added: Mapping[str, Mapping[str, str]] | None = None) -> None:
        super().__init__(path, schema, added or {})
        self.where = str(path)

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return self.connection().execute(sql, args).fetchall()

    def row(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.connection().execute(sql, args).fetchone()
        return row

    @contextmanager
    def writer_lock(self, key: str, *, timeout: float = 600) -> Iterator[None]:
        lock_dir = self.path.parent / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_dir / f"{key}.lock"))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise _busy(timeout) from None
        try:
            yield
        finally:
            lock.release()


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def redacted(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class _PgTransaction:
    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self.con.execute(_pg_sql(sql), args)
        return cursor

    def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> Any:
        with self.con.cursor() as cur:
            cur.executemany(_pg_sql(sql), args)


class PgDatabase:
    """A PostgreSQL server through a connection pool (psycopg 3). `migrations` are applied in order,
    once, under an advisory lock, and recorded in the table `schema_version`."""

    dialect = "postgresql"

    def __init__(self, url: str, migrations: Sequence[str], *, name: str) -> None:
        try:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise BackendUnavailable(
                f"a PostgreSQL database needs psycopg ({exc})",
                hint="pip install 'psycopg[binary]' psycopg-pool",
            ) from None
        self.url = url
        self.where = redacted(url)
        self.name = name
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=16,
            # JIT compiles each query for ~20 ms, more than our queries run; BM25's aggregate needs memory
            kwargs={"row_factory": dict_row, "autocommit": True, "options": "-c jit=off -c work_mem=32MB"},
            check=ConnectionPool.check_connection,
            timeout=_POOL_WAIT_S,
            open=False,
            name=f"rag-{name}",
        )
        with self._errors("connecting to"):
            self._pool.open(wait=True, timeout=_POOL_WAIT_S)
        self._migrate(migrations)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            yield
        except (psycopg.OperationalError, PoolTimeout) as exc:
            detail = re.sub(r"\s+", " ", str(exc)).strip()[:300]
            raise BackendUnavailable(
                f"{action} the database at {self.where} failed: {detail}",
                hint="check that PostgreSQL is running and RAG_DATABASE__URL is right; the service "
                "reconnects by itself once it is back",
            ) from None

    def _migrate(self, migrations: Sequence[str]) -> None:
        lock = _lock_id(f"schema:{self.name}")
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
            tx.execute(f"CREATE TABLE IF NOT EXISTS schema_version_{self.name}(version INTEGER NOT NULL)")
            row = tx.execute(f"SELECT max(version) AS v FROM schema_version_{self.name}").fetchone()
            done = int(row["v"] or 0)
            for version, sql in enumerate(migrations, 1):
                if version > done:
                    tx.execute(sql)
                    tx.execute(f"INSERT INTO schema_version_{self.name} VALUES (?)", (version,))

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._errors("reading from"), self._pool.connection() as con:
            rows: list[Row] = self._execute(con, sql, args).fetchall()
            return rows

    def row(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        with self._errors("reading from"), self._pool.connection() as con:
            row: Row | None = self._execute(con, sql, args).fetchone()
            return row

    @staticmethod
    def _execute(con: Any, sql: str, args: Sequence[Any]) -> Any:
        return con.execute(_pg_sql(sql), args)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._errors("writing to"), self._pool.connection() as con, con.transaction():
            yield _PgTransaction(con)

    @contextmanager
    def writer_lock(self, key: str, *, timeout: float = 600) -> Iterator[None]:
        """A session advisory lock on a connection held for the block: PostgreSQL releases it when the
        writer's session ends, also when its process is killed."""
        lock = _lock_id(f"writer:{key}")
        deadline = time.monotonic() + timeout
        with self._errors("locking a collection in"), self._pool.connection() as held:
            con: Any = held
            while not con.execute("SELECT pg_try_advisory_lock(%s) AS ok", (lock,)).fetchone()["ok"]:
                if time.monotonic() > deadline:
                    raise _busy(timeout)
                time.sleep(0.1)
            try:
                yield
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", (lock,))

    def close(self) -> None:
        self._pool.close()


def _lock_id(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big", signed=True)


def is_server_url(where: str) -> bool:
    return where.startswith(("postgresql://", "postgres://"))


def open_database(
    where: Path | str,
    *,
    name: str,
    sqlite_schema: str,
    migrations: Sequence[str],
    added: Mapping[str, Mapping[str, str]] | None = None,
) -> Database:
    """The SQLite file `where`, or the PostgreSQL server at the URL `where` (tables of `name`)."""
    if is_server_url(str(where)):
        return PgDatabase(str(where), migrations, name=name)
    return SqliteDatabase(Path(where), sqlite_schema, added)
