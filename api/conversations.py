"""Durable chat conversations in SQLite (`data_dir/conversations.sqlite3`) or on the PostgreSQL server
that replicas share (`RAG_DATABASE__URL`): a restart loses nothing.

store = ConversationStore(data_dir / "conversations.sqlite3")
conv = store.create("Vacation policy", "handbook")
store.add_message(conv.id, "user", "How many vacation days?")
store.history(conv.id, limit=6)     # -> (ChatMessage, ...) for query rewriting
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from api.schemas import Conversation, ConversationSummary, Message
from rag_core.errors import InvalidInputError, NotFoundError
from rag_core.types import Citation
from rag_models.llm.base import ChatMessage, Role
from vectorstore.database import Row, open_database
from vectorstore.schema import CONVERSATION_MIGRATIONS, SQLITE_CONVERSATIONS

TITLE_CHARS = 80


class ConversationStore:
    """`where`: the SQLite file, or a postgresql:// URL (shared by replicas on several hosts)."""

    def __init__(self, where: Path | str) -> None:
        self.db = open_database(
            where,
            name="conversations",
            sqlite_schema=SQLITE_CONVERSATIONS,
            migrations=CONVERSATION_MIGRATIONS,
        )

    def close(self) -> None:
        self.db.close()

    def create(self, title: str, collection: str) -> Conversation:
        now = time.time()
        conv_id = uuid.uuid4().hex
        title = " ".join(title.split())[:TITLE_CHARS]
        with self.db.transaction() as con:
            con.execute(
                "INSERT INTO conversations VALUES (?,?,?,?,?)", (conv_id, title, collection, now, now)
            )
        return Conversation(id=conv_id, title=title, collection=collection, created=now, updated=now)

    def summaries(self) -> list[ConversationSummary]:
        rows = self.db.rows(
            "SELECT c.*, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS n "
            "FROM conversations c ORDER BY updated DESC"
        )
        return [
            ConversationSummary(
                id=r["id"],
                title=r["title"],
                collection=r["collection"],
                created=r["created"],
                updated=r["updated"],
                message_count=r["n"],
            )
            for r in rows
        ]

    def get(self, conv_id: str) -> Conversation:
        row = self.db.row("SELECT * FROM conversations WHERE id=?", (conv_id,))
        if row is None:
            raise _missing(conv_id)
        messages = self.db.rows("SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conv_id,))
        return Conversation(
            id=row["id"],
            title=row["title"],
            collection=row["collection"],
            created=row["created"],
            updated=row["updated"],
            messages=[_message(m) for m in messages],
        )

    def delete(self, conv_id: str) -> None:
        with self.db.transaction() as con:
            if con.execute("DELETE FROM conversations WHERE id=?", (conv_id,)).rowcount == 0:
                raise _missing(conv_id)

    def add_message(
        self,
        conv_id: str,
        role: Role,
        content: str,
        *,
        refused: bool = False,
        citations: list[Citation] | None = None,
        extra: dict[str, Any] | None = None,
        replacing_after: int | None = None,
    ) -> Message:
        """Append a message; with `replacing_after`, the messages after that one go in the same
        transaction (a regenerated answer replaces the old one)."""
        now = time.time()
        cites = [c.model_dump() for c in citations or []]
        with self.db.transaction() as con:
            row = con.execute("SELECT title FROM conversations WHERE id=?", (conv_id,)).fetchone()
            if row is None:
                raise _missing(conv_id)
            if replacing_after is not None:
                con.execute(
                    "DELETE FROM messages WHERE conversation_id=? AND id>?", (conv_id, replacing_after)
                )
            cur = con.execute(
                "INSERT INTO messages(conversation_id, role, content, created, refused, citations, extra) "
                "VALUES (?,?,?,?,?,?,?) RETURNING id",
                (conv_id, role, content, now, int(refused), json.dumps(cites), json.dumps(extra or {})),
            )
            title = row["title"] or (" ".join(content.split())[:TITLE_CHARS] if role == "user" else "")
            con.execute("UPDATE conversations SET updated=?, title=? WHERE id=?", (now, title, conv_id))
            message_id = int(cur.fetchone()["id"])
        return Message(
            id=message_id,
            role=role,
            content=content,
            created=now,
            refused=refused,
            citations=[Citation(**c) for c in cites],
            extra=extra or {},
        )

    def history(self, conv_id: str, limit: int, before: int | None = None) -> tuple[ChatMessage, ...]:
        """The last `limit` messages (before message id `before`, when given), oldest first."""
        if limit <= 0:
            return ()
        rows = self.db.rows(
            "SELECT role, content FROM messages WHERE conversation_id=? AND id<? ORDER BY id DESC LIMIT ?",
            (conv_id, before if before is not None else 2**62, limit),
        )
        return tuple(ChatMessage(r["role"], r["content"]) for r in reversed(rows))

    def last_question(self, conv_id: str) -> Message:
        """The conversation's last user message; 422 when it has none."""
        if self.db.row("SELECT id FROM conversations WHERE id=?", (conv_id,)) is None:
            raise _missing(conv_id)
        row = self.db.row(
            "SELECT * FROM messages WHERE conversation_id=? AND role='user' ORDER BY id DESC LIMIT 1",
            (conv_id,),
        )
        if row is None:
            raise InvalidInputError(
                f"conversation {conv_id!r} has no question to answer again",
                hint="ask one with POST /v1/conversations/{id}/messages",
                http_status=422,
            )
        return _message(row)


def _missing(conv_id: str) -> NotFoundError:
    return NotFoundError(
        f"conversation {conv_id!r} does not exist",
        hint="list conversations with GET /v1/conversations, or create one with POST /v1/conversations",
    )


def _message(row: Row) -> Message:
    return Message(
        id=row["id"],
        role=row["role"],
        content=row["content"],
        created=row["created"],
        refused=bool(row["refused"]),
        citations=[Citation(**c) for c in json.loads(row["citations"])],
        extra=json.loads(row["extra"]),
    )
