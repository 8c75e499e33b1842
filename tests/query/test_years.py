"""The years a question is about: those it names, unless it asks for a time."""

from __future__ import annotations

import pytest

from rag.query.years import about_other_years, asked_years, years_in


@pytest.mark.parametrize(
    ("question", "years"),
    [
        ("2022年星河杯帆船赛冠军", {"2022"}),
        ("Which kit did the 2023 release add support for?", {"2023"}),
        ("How did sales in 1998 compare with 2001?", {"1998", "2001"}),
        ("王启帆哪一年夺得星河杯帆船赛冠军？2019年吗", set()),  # asks for a year: a year is the answer
        ("When did the 2022 season start?", set()),
        ("In what year was the founder who left the firm in 2000 born?", set()),
        ("How many of the 12000 units shipped on 5 GHz?", set()),  # numbers, not years
        ("公司有2000名员工吗？报销上限1500元", set()),
        ("Is the 1800 W model quieter than the one with 2,000 units sold?", set()),
        ("VMC2022的举办地", {"2022"}),
        ("二〇二二年公司的利润是多少", {"2022"}),
        ("Which ferry line founded in the 1950s was first to carry cars?", {"195"}),  # a decade
        ("1990年代和2001年的销量", {"199", "2001"}),
        ("What was FY22 revenue, against FY2021?", {"2022", "2021"}),  # fiscal years
    ],
)
def test_asked_years(question: str, years: set[str]) -> None:
    assert asked_years(question) == years


def test_years_in_a_span_of_a_text() -> None:
    text = "2021年和2022年，陈思远两次闯入四强。王启帆夺得2023年冠军。"
    assert years_in(text) == {"2021", "2022", "2023"}
    assert years_in(text, text.index("王")) == {"2023"}
    assert years_in("本制度自二〇二四年一月起施行，一九九八年版废止。") == {"2024", "1998"}


def test_a_text_is_about_other_years_only_when_it_names_years_and_none_asked() -> None:
    assert about_other_years({"2022"}, {"2023"})
    assert not about_other_years({"2022"}, {"2021", "2022"})
    assert not about_other_years({"2022"}, set())  # undated
    assert not about_other_years(set(), {"2023"})  # the question names no year
    assert not about_other_years({"195"}, {"1958"})  # 1958 is in the 1950s
    assert about_other_years({"195"}, {"1999"})
