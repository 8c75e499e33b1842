"""Numbered names a question pins down (NR-8, version 5.0), and evidence that names only others."""

from __future__ import annotations

import pytest

from rag.query.numbered import numbered_names, other_numbers


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("How long does the NR-8 run on one charge?", {("nr", "8")}),
        ("NR-9的续航时间是多少？", {("nr", "9")}),
        ("What changed in version 5.0?", {("version", "5.0")}),
        ("GPT4发布时间", {("gpt", "4")}),
        ("Who commanded Apollo 11?", {("apollo", "11")}),
        ("Version 4.2 (March 2026)", {("version", "4.2")}),
        ("In 1990, at 5 pm on May 5, the 5G network", set()),  # words, months and units are no names
    ],
)
def test_numbered_names(text: str, names: set[tuple[str, str]]) -> None:
    assert numbered_names(text) == names


def test_evidence_about_other_numbers_of_an_asked_name() -> None:
    assert other_numbers({("nr", "8")}, {("nr", "7")}) == {"nr 8"}
    assert other_numbers({("nr", "8")}, {("nr", "7"), ("nr", "8")}) == frozenset()
    assert other_numbers({("nr", "8"), ("nr", "7")}, {("nr", "7")}) == frozenset()  # a comparison
    assert other_numbers({("nr", "8")}, {("version", "4.2")}) == frozenset()  # the NR line unnamed
