"""Setting names as users write them: which `RAG_*` variables and config-file keys name no setting, and
the closest valid name for each (`RAG_LLM__BACKNED` -> "did you mean RAG_LLM__BACKEND?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

NOT_SETTINGS = frozenset({"RAG_CONFIG", "RAG_DEBUG", "RAG_PORT", "RAG_GPU_PORT", "RAG_HF_MODEL"})
"""`RAG_*` variables that are not settings: the config file's path, the CLI's traceback switch, and the
variables docker-compose.yml reads on the host (published ports, the GPU service's model)."""


class Section(BaseModel):
    """A nested table of settings (`[llm]`, `RAG_LLM__...`): unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def _sections(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The fields of `model` that are nested tables of settings, by name."""
    nested = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested[name] = annotation
    return nested


def _paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every valid key: each field, and each field of each nested table, at any depth."""
    for name in model.model_fields:
        yield (*prefix, name)
    for name, section in _sections(model).items():
        yield from _paths(section, (*prefix, name))


def _is_setting(model: type[BaseModel], path: tuple[str, ...]) -> bool:
    head, *rest = path
    if head not in model.model_fields:
        return False
    section = _sections(model).get(head)
    return not rest or (section is not None and _is_setting(section, tuple(rest)))


def _closest(key: tuple[str, ...], valid: list[tuple[str, ...]], sep: str) -> tuple[str, ...] | None:
    """The valid key most like `key`: in the same table by the name alone, in another table by the whole
    key (written with `sep`), favouring a key of the same name in another table."""

    def score(candidate: tuple[str, ...]) -> float:
        if candidate[:-1] == key[:-1]:
            return difflib.SequenceMatcher(None, key[-1], candidate[-1]).ratio()
        whole = difflib.SequenceMatcher(None, sep.join(key), sep.join(candidate)).ratio()
        return whole + (0.15 if candidate[-1] == key[-1] else 0.0)

    best = max(valid, key=score, default=None)
    return best if best is not None and score(best) >= 0.65 else None


def unknown_env_vars(settings_cls: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """The `RAG_*` variables that name no setting, each with the closest valid name when there is one.
    Names are compared case-insensitively, as pydantic-settings reads them."""
    valid = list(_paths(settings_cls))
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("RAG_") or upper in NOT_SETTINGS:
            continue
        key = tuple(upper[4:].lower().split("__"))
        if _is_setting(settings_cls, key):
            continue
        problem = f"{name} (environment variable)"
        near = _closest(key, valid, "__")
        if near:
            problem += f": did you mean RAG_{'__'.join(near).upper()}?"
        problems.append(problem)
    return problems


def unknown_file_keys(settings_cls: type[BaseModel], data: Mapping[str, object], file: Path) -> list[str]:
    """The keys of a config file that name no setting (tables at any depth), with the closest valid key."""
    sections = set(_section_paths(settings_cls))
    valid = list(_paths(settings_cls))
    problems = []
    for key, value in _unknown_keys(settings_cls, data):
        problem = f"{_toml_key(key, isinstance(value, Mapping))} in config file {file}"
        near = _closest(key, valid, ".")
        if near:
            problem += f": did you mean {_toml_key(near, near in sections, short=near[:-1] == key[:-1])}?"
        problems.append(problem)
    return problems


def _section_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, section in _sections(model).items():
        yield (*prefix, name)
        yield from _section_paths(section, (*prefix, name))


def _toml_key(path: tuple[str, ...], table: bool, short: bool = False) -> str:
    """How a config file spells a key: `[llm]` for a table, `backend under [llm]` for llm.backend
    (`backend` when `short`), a top-level key by its name."""
    if table:
        return f"[{'.'.join(path)}]"
    if len(path) == 1 or short:
        return path[-1]
    return f"{path[-1]} under [{'.'.join(path[:-1])}]"


def _unknown_keys(
    model: type[BaseModel], data: Mapping[str, object], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], object]]:
    sections = _sections(model)
    for key, value in data.items():
        if key not in model.model_fields:
            yield (*prefix, key), value
        elif key in sections and isinstance(value, Mapping):
            yield from _unknown_keys(sections[key], value, (*prefix, key))
