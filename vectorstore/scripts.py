"""Which documents of a collection are written in which script (Chinese/Japanese or Latin), from each
document's title and summary. A collection that mixes them is searched once more per script other than
the question's: a multilingual embedder scores passages in the question's own language higher whatever
they say, so the best passage in the other language needs its own ranking to be seen at all.

    groups = DocumentScripts(catalog).groups(info)   # {"latin": ScriptGroup([...doc ids], sample), ...}
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rag_core.tokens import script_of
from vectorstore.catalog import Catalog
from vectorstore.records import CollectionInfo


@dataclass(slots=True)
class ScriptGroup:
    doc_ids: list[str] = field(default_factory=list)
    sample: str = ""  # one document's title and summary: what an embedder is asked whether it can read


class DocumentScripts:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, tuple[tuple[float, int], dict[str, ScriptGroup]]] = {}
        self._lock = threading.Lock()

    def groups(self, info: CollectionInfo) -> dict[str, ScriptGroup]:
        """Documents by script; rebuilt only when the collection changes."""
        stamp = self.catalog.change_stamp(info.name)
        cached = self._cache.get(info.name)
        if cached and cached[0] == stamp:
            return cached[1]
        groups: dict[str, ScriptGroup] = {}
        for doc_id, text in self.catalog.document_texts(info.name):
            group = groups.setdefault(script_of(text), ScriptGroup(sample=text))
            group.doc_ids.append(doc_id)
        with self._lock:
            self._cache[info.name] = (stamp, groups)
        return groups
