"""What the routes share: settings, the components, the conversation store, jobs, metrics, warm-up."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Request

from api.conversations import ConversationStore
from api.jobs import JobRegistry
from api.metrics import Metrics
from rag.components import Components
from rag_core.errors import RagError
from rag_core.settings import Settings

log = logging.getLogger("rag.api")

WarmState = Literal["pending", "loading", "ready", "failed"]


@dataclass
class WarmUp:
    embedder: WarmState = "pending"
    llm: WarmState = "pending"
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class AppState:
    settings: Settings
    components: Components
    conversations: ConversationStore
    jobs: JobRegistry
    metrics: Metrics
    warm: WarmUp = field(default_factory=WarmUp)
    local_token: str = ""  # set by `rag serve`: the credential it announced in the data dir

    def warm_up(self) -> None:
        """Load the embedder and the LLM so the first request does not pay for it. Runs in a thread."""
        for name, load in (("embedder", self._load_embedder), ("llm", self._load_llm)):
            setattr(self.warm, name, "loading")
            try:
                load()
                setattr(self.warm, name, "ready")
            except Exception as exc:
                setattr(self.warm, name, "failed")
                self.warm.detail[name] = str(exc) if isinstance(exc, RagError) else type(exc).__name__
                log.warning("warm-up of the %s failed: %s", name, exc)

    def _load_embedder(self) -> None:
        self.components.embedder.embed_query("warm up")

    def _load_llm(self) -> None:
        self.components.llm().warm_up()

    def start_warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="rag-warm-up", daemon=True)
        thread.start()
        return thread


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.rag
    return state


StateDep = Annotated[AppState, Depends(get_state)]
