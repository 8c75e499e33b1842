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
        ("VX4发布时间", {("vx", "4")}),
        ("Who designed Velmora 11?", {("velmora", "11")}),
        ("Version 4.2 (March 2026)", {("version", "4.2")}),
        ("In 1990, at 5 pm on May 5, the 5G network", set()),  # words, months and units are no names
        ("How much is the zeLink 14 and tideOS 13?", {("zelink", "14"), ("tideos", "13")}),
        ("第十四届星河杯在哪举行", {("届", "14")}),  # a Chinese ordinal: its measure word names the series
        ("第14届星河杯和首届青川茶博会", {("届", "14"), ("届", "1")}),
        ("青川往事第三季和第二十集", {("季", "3"), ("集", "20")}),
        ("鸿澜汽车2022年第一季度营收", {("quarter", "1")}),  # a quarter, however written
        ("一季度营收和Q3利润，third quarter", {("quarter", "1"), ("quarter", "3")}),
        ("第一次公开招标，首次亮相，第一名", set()),  # "for the first time" names no series
        ("FY22 revenue", set()),  # a fiscal year is a year
    ],
)
def test_numbered_names(text: str, names: set[tuple[str, str]]) -> None:
    assert numbered_names(text) == names


def test_evidence_about_other_numbers_of_an_asked_name() -> None:
    assert other_numbers({("nr", "8")}, {("nr", "7")}) == {"nr 8"}
    assert other_numbers({("nr", "8")}, {("nr", "7"), ("nr", "8")}) == frozenset()
    assert other_numbers({("nr", "8"), ("nr", "7")}, {("nr", "7")}) == frozenset()  # a comparison
    assert other_numbers({("nr", "8")}, {("version", "4.2")}) == frozenset()  # the NR line unnamed


def test_evidence_about_another_edition_of_a_chinese_series() -> None:
    asked = numbered_names("第七届青川县议事会有多少个席位？")
    assert other_numbers(asked, numbered_names("第六届青川县议事会共有35个席位。")) == {"届 7"}
    assert other_numbers(asked, numbered_names("第6届和第七届议事会")) == frozenset()
    assert other_numbers(numbered_names("Q2营收"), numbered_names("第一季度营收")) == {"quarter 2"}
    # the same number in a Latin-script name, or an edition the text does not number, may be the one
    assert other_numbers(numbered_names("第12届星河杯"), numbered_names("Xinghe Cup 12: 第11届")) == set()
    assert other_numbers(asked, numbered_names("本届议事会共45席，比第六届多10席。")) == frozenset()
    assert other_numbers(numbered_names("NR-8"), numbered_names("NR-7 and version 8")) == {"nr 8"}
