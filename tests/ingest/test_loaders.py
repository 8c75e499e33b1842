"""Loaders on real files of every format, generated here, plus every kind of bad input."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ingest.clean import clean_text
from ingest.loaders import SUPPORTED_EXTENSIONS, load_file
from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument
from tests.helpers import fixtures_module

fx = fixtures_module()

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def section_with(doc: LoadedDocument, needle: str):
    matches = [s for s in doc.sections if needle in s.text]
    assert matches, f"{needle!r} not found in {[s.text[:80] for s in doc.sections]}"
    return matches[0]


def assert_well_formed(doc: LoadedDocument) -> None:
    assert doc.title
    assert doc.sections
    assert all(s.text.strip() for s in doc.sections)
    assert all("\x00" not in s.text and "\r" not in s.text for s in doc.sections)


def load_error(path: Path, **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        load_file(path, **kwargs)
    message = info.value.message
    assert message and "\n" not in message
    return info.value


def test_supported_extensions() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS)
    expected = ".pdf .docx .pptx .xlsx .csv .html .htm .md .markdown .txt .text .log .rst .eml".split()
    assert set(expected) <= SUPPORTED_EXTENSIONS


# PDF


def test_pdf_pages_headings_and_metadata(tmp_path: Path) -> None:
    doc = load_file(fx.make_pdf(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "pdf"
    assert doc.title == "Quarterly Safety Report"
    assert doc.metadata["page_count"] == 3
    assert doc.metadata["author"] == "Ann Example"
    assert doc.metadata["created"].startswith("2024-03-01T09:30")
    incident = section_with(doc, "three minor incidents")
    assert incident.page == 2
    assert incident.headings == ("Quarterly Safety Report", "Incident Summary")
    assert "equipment maintenance and were reported" in incident.text
    causes = section_with(doc, "worn gloves")
    assert (causes.page, causes.headings) == (2, ("Quarterly Safety Report", "Root Causes"))
    steps = section_with(doc, "guard rail on line 4")
    assert (steps.page, steps.headings) == (3, ("Quarterly Safety Report", "Next Steps"))
    assert "- Replace all work gloves by April.\n- Install the guard rail on line 4." in steps.text
    intro = section_with(doc, "Prepared by the facilities team")
    assert (intro.page, intro.headings) == (1, ("Quarterly Safety Report",))


def test_pdf_found_by_content_without_or_with_odd_extension(tmp_path: Path) -> None:
    source = fx.make_pdf(tmp_path)
    for name in ("REPORT.PDF", "report", "report.bin"):
        target = tmp_path / name
        shutil.copy(source, target)
        doc = load_file(target)
        assert doc.file_type == "pdf"
        assert section_with(doc, "worn gloves").page == 2


def test_pdf_running_headers_and_footers_dropped(tmp_path: Path) -> None:
    doc = load_file(fx.make_paged_pdf(tmp_path, pages=6))
    assert "Confidential" not in doc.text
    assert "of 6" not in doc.text
    for number in range(1, 7):
        chapter = section_with(doc, f"policy number {number * 7} in detail")
        assert (chapter.page, chapter.headings) == (number, (f"Chapter {number}",))


@pytest.mark.skipif(not DEJAVU.is_file(), reason="DejaVu font not installed")
def test_pdf_ligatures_are_undone(tmp_path: Path) -> None:
    doc = load_file(fx.make_paged_pdf(tmp_path, pages=4, font=DEJAVU))
    assert "The financial benefits of chapter 3 are flexible." in section_with(doc, "chapter 3").text
    assert "\ufb01" not in doc.text


def test_scanned_pdf_is_skipped_with_ocr_hint(tmp_path: Path) -> None:
    error = load_error(fx.make_scanned_pdf(tmp_path))
    assert error.skipped
    assert "no text" in error.message
    assert "OCR" in error.hint


def test_encrypted_pdf_fails_with_password_hint(tmp_path: Path) -> None:
    error = load_error(fx.make_encrypted_pdf(tmp_path))
    assert not error.skipped
    assert "password" in error.message
    assert "remove the password" in error.hint


def test_truncated_pdf_fails(tmp_path: Path) -> None:
    error = load_error(fx.make_corrupt_pdf(tmp_path))
    assert not error.skipped
    assert "truncated.pdf" in error.message
    assert "corrupt" in error.hint


def test_pdf_title_page_and_hyphens_at_line_ends(tmp_path: Path) -> None:
    doc = load_file(fx.make_guide_pdf(tmp_path))
    assert_well_formed(doc)
    assert doc.metadata["page_count"] == 6
    assert doc.title == "Halvorsen Maritime Passenger Guide"  # the title page's two lines, no metadata title
    refunds = section_with(doc, "refund of half the fare")
    assert refunds.page == 5
    assert refunds.headings == ("Delays and Refunds",)  # a title page's lines head no section
    assert "on the seabus at no extra cost" in refunds.text  # the document's own word loses the hyphen
    assert "half the fare to foot-passengers and drivers" in refunds.text  # a compound keeps it
    boarding = section_with(doc, "gangway")
    assert (boarding.page, boarding.headings) == (3, ("Boarding",))
    assert "Show your e-ticket on your phone" in boarding.text
    assert "\ufffe" not in doc.text and "footpassengers" not in doc.text and "eticket" not in doc.text


# Office formats


def test_docx_headings_lists_tables_and_chinese(tmp_path: Path) -> None:
    doc = load_file(fx.make_docx(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "docx"
    assert doc.title == "Employee Handbook 员工手册"
    assert doc.metadata["author"] == "HR Team"
    annual = section_with(doc, "25 days of annual leave")
    assert annual.headings == ("Employee Handbook", "Leave Policy", "Annual Leave")
    assert fx.ZH_SENTENCE in annual.text
    assert "- Request leave in the HR portal\n- Get approval from your manager" in annual.text
    sick = section_with(doc, "doctor's note")
    assert sick.headings == ("Employee Handbook", "Leave Policy", "Sick Leave")
    table = section_with(doc, "Tidewell Basic")
    assert table.kind == "table"
    assert table.headings == ("Employee Handbook", "Benefits")
    assert "Plan: Tidewell Basic; Deductible: $2,000; Copay: $30" in table.text
    assert "Plan: Tidewell Select; Deductible: $1,000; Copay: $20" in table.text
    assert section_with(doc, "first day of employment").headings == ("Employee Handbook", "Benefits")


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = fx.make_docx_bomb(tmp_path, expanded_mb=250)
    assert bomb.stat().st_size < 5 * 2**20
    started = time.perf_counter()
    error = load_error(bomb)
    assert time.perf_counter() - started < 2
    assert not error.skipped
    assert "uncompressed" in error.message
    assert "zip bomb" in error.hint


def test_docx_member_with_extreme_ratio_is_refused(tmp_path: Path) -> None:
    error = load_error(fx.make_docx_bomb(tmp_path, expanded_mb=40))
    assert not error.skipped
    assert "compressed more than" in error.message


def test_corrupt_office_files_fail(tmp_path: Path) -> None:
    junk = tmp_path / "broken.docx"
    junk.write_bytes(b"PK\x03\x04" + bytes(random.Random(1).randbytes(5000)))
    error = load_error(junk)
    assert not error.skipped and "DOCX" in error.message
    not_word = tmp_path / "other.docx"
    with zipfile.ZipFile(not_word, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    error = load_error(not_word)
    assert not error.skipped and "cannot parse DOCX" in error.message
    truncated = tmp_path / "cut.pptx"
    truncated.write_bytes(fx.make_pptx(tmp_path).read_bytes()[:3000])
    assert not load_error(truncated).skipped


def test_docx_found_by_content(tmp_path: Path) -> None:
    target = tmp_path / "handbook.dat"
    shutil.copy(fx.make_docx(tmp_path), target)
    assert load_file(target).file_type == "docx"


def test_pptx_slides_titles_notes_tables(tmp_path: Path) -> None:
    doc = load_file(fx.make_pptx(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "pptx"
    assert doc.title == "Quarterly Review"
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert [s.headings for s in doc.sections] == [("Quarterly Review",), ("Revenue",), ("Headcount",)]
    revenue = doc.sections[1]
    assert "Revenue grew 12% year over year\nAPAC was the fastest-growing region" in revenue.text
    assert "Notes: Mention the new Singapore office." in revenue.text
    assert "Team: Sales; People: 42\nTeam: Support; People: 17" in doc.sections[2].text
    assert doc.metadata["slide_count"] == 3


def test_xlsx_rows_with_header_per_sheet(tmp_path: Path) -> None:
    doc = load_file(fx.make_xlsx(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "xlsx"
    assert [(s.page, s.headings) for s in doc.sections] == [(1, ("Employees",)), (2, ("Offices",))]
    employees = doc.sections[0].text.split("\n")
    assert employees == [
        "Staff list 2024",
        "Name: Alice Smith; Department: Engineering; Start date: 2021-04-01; Salary: 98000",
        "Name: Bob Jones; Department: Sales; Start date: 2022-09-15; Salary: 75500.5",
    ]
    assert doc.sections[1].text.split("\n") == [
        "City: 上海; Country: 中国; Staff: 120",
        "City: Seattle; Country: USA; Staff: 300",
    ]
    assert doc.metadata["sheet_count"] == 3


def test_csv_sniffs_delimiter_and_encoding(tmp_path: Path) -> None:
    doc = load_file(fx.make_csv(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "csv"
    assert doc.sections[0].text.split("\n") == [
        "Product: Espresso; Price: 2,50; Café location: Zürich",
        "Product: Latte; Price: 3,80; Café location: Genève",
    ]
    assert doc.metadata["delimiter"] == ";"


def test_csv_gbk_and_tsv(tmp_path: Path) -> None:
    gbk = tmp_path / "cities.csv"
    gbk.write_bytes('城市,人口\n"上海, 中国",2487万\n北京,2189万\n'.encode("gbk"))
    doc = load_file(gbk)
    assert doc.sections[0].text == "城市: 上海, 中国; 人口: 2487万\n城市: 北京; 人口: 2189万"
    tsv = tmp_path / "data.tsv"
    tsv.write_text("id\tname\n1\tAda\n", encoding="utf-8")
    assert load_file(tsv).sections[0].text == "id: 1; name: Ada"


# HTML, Markdown, e-mail


def test_html_drops_chrome_keeps_headings_and_tables(tmp_path: Path) -> None:
    doc = load_file(fx.make_html(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "html"
    assert doc.title == "Travel Policy"
    assert doc.metadata["author"] == "Policy Office"
    chrome = ("do not index me", "Home", "Site banner", "sidebar", "Copyright footer", "Search", "color: red")
    for junk in chrome:
        assert junk not in doc.text
    flights = section_with(doc, "economy class")
    assert flights.headings == ("Travel Policy", "Flights")
    assert "- Use the travel portal\n- Keep receipts" in flights.text
    table = section_with(doc, "London")
    assert table.kind == "table"
    assert table.headings == ("Travel Policy", "Per Diem")
    assert "City: London; Daily allowance: £80\nCity: 北京; Daily allowance: ¥500" in table.text
    chinese = section_with(doc, fx.ZH_SENTENCE)
    assert chinese.headings == ("Travel Policy", "Per Diem", "中文说明")
    assert section_with(doc, "approved in advance").headings == ("Travel Policy",)


def test_html_nested_ten_thousand_levels(tmp_path: Path) -> None:
    doc = load_file(fx.make_deep_html(tmp_path, depth=10_000))
    assert doc.title == "Deep"
    assert "The needle sits at the bottom." in doc.text
    assert "After the nest." in doc.text


def test_html_gbk_with_meta_charset(tmp_path: Path) -> None:
    path = tmp_path / "gb.htm"
    head = '<html><head><meta charset="gb2312"><title>年假</title></head>'
    markup = f"{head}<body><p>{fx.ZH_SENTENCE}</p></body></html>"
    path.write_bytes(markup.encode("gbk"))
    doc = load_file(path)
    assert doc.title == "年假"
    assert doc.text == fx.ZH_SENTENCE


def test_markdown_headings_fences_setext_front_matter(tmp_path: Path) -> None:
    doc = load_file(fx.make_markdown(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "md"
    assert doc.title == "Onboarding Guide"
    assert doc.metadata["author"] == "People Team"
    assert "title:" not in doc.text and "---" not in doc.text
    assert section_with(doc, "first day").headings == ()
    setup = section_with(doc, "VPN client")
    assert setup.headings == ("Setup",)
    assert "# this is a shell comment, not a heading" in setup.text
    assert section_with(doc, "Ask IT").headings == ("Setup", "Accounts")
    assert section_with(doc, "mailbox").headings == ("Setup", "Email")
    assert section_with(doc, fx.ZH_SENTENCE).headings == ("福利",)


def test_markdown_title_from_first_h1(tmp_path: Path) -> None:
    path = tmp_path / "notes.markdown"
    path.write_text("intro\n\n## Minor\n\ntext\n\n# Main Title\n\nbody\n", encoding="utf-8")
    doc = load_file(path)
    assert doc.title == "Main Title"
    assert section_with(doc, "body").headings == ("Main Title",)


def test_eml_headers_plain_body_and_attachments(tmp_path: Path) -> None:
    doc = load_file(fx.make_eml(tmp_path))
    assert_well_formed(doc)
    assert doc.file_type == "eml"
    assert doc.title == "Office move on Friday"
    assert doc.metadata["from"] == "Facilities <facilities@example.com>"
    assert doc.metadata["to"] == "All Staff <staff@example.com>"
    assert doc.metadata["date"] == "2024-03-04T09:15:00+00:00"
    assert doc.metadata["attachments"] == ["floorplan.pdf"]
    assert doc.sections[0].text.startswith("From: Facilities <facilities@example.com>\nTo: All Staff")
    assert "We move to the 5th floor on Friday." in doc.text
    assert "HTML version" not in doc.text and "floor plan bytes" not in doc.text


def test_eml_html_only_body(tmp_path: Path) -> None:
    doc = load_file(fx.make_html_only_eml(tmp_path))
    assert doc.title == "Newsletter"
    body = section_with(doc, "cafeteria reopens")
    assert body.headings == ("March news",)
    assert "x()" not in doc.text


# Plain text and encodings


@pytest.mark.parametrize(
    ("encoding", "bom", "text"),
    [
        ("utf-8", b"", fx.ZH_SENTENCE + "\nplain ascii line"),
        ("utf-8", b"\xef\xbb\xbf", fx.ZH_SENTENCE),
        ("utf-16-le", b"\xff\xfe", fx.ZH_SENTENCE),
        ("utf-16-be", b"\xfe\xff", fx.ZH_SENTENCE),
        ("utf-16-le", b"", "Plain English stored as UTF-16 without a byte order mark."),
        ("gbk", b"", fx.ZH_SENTENCE),
        ("gbk", b"", "你好"),
        ("gbk", b"", "员工手册：年假政策"),
        ("gb18030", b"", "Employee handbook 员工手册 version 2"),
        ("big5", b"", fx.ZH_TRADITIONAL),
        ("cp1252", b"", "Café résumé — “quoted” naïve façade"),
        ("latin-1", b"", "Größe and Übergröße über alles"),
    ],
)
def test_text_encodings(tmp_path: Path, encoding: str, bom: bytes, text: str) -> None:
    path = fx.make_text(tmp_path, "sample.txt", text, encoding, bom=bom)
    doc = load_file(path)
    assert doc.file_type == "txt"
    assert doc.title == "sample"
    assert doc.text == text


def test_text_newlines_and_paragraphs_normalised(tmp_path: Path) -> None:
    path = tmp_path / "notes.log"
    path.write_bytes(b"line one\r\nline two   \r\n\r\n\r\n\r\nnext paragraph\rlast")
    assert load_file(path).text == "line one\nline two\n\nnext paragraph\nlast"


def test_html_and_eml_found_by_content(tmp_path: Path) -> None:
    page = tmp_path / "page"
    shutil.copy(fx.make_html(tmp_path), page)
    assert load_file(page).file_type == "html"
    mail = tmp_path / "message.msgdump"
    shutil.copy(fx.make_eml(tmp_path), mail)
    assert load_file(mail).title == "Office move on Friday"


def test_text_file_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "README"
    path.write_text("Read me first.\n", encoding="utf-8")
    doc = load_file(path)
    assert (doc.file_type, doc.text) == ("txt", "Read me first.")


# Bad inputs


def test_binary_junk_named_txt_fails(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(random.Random(7).randbytes(20_000))
    error = load_error(junk)
    assert not error.skipped
    assert "does not contain text" in error.message
    controls = tmp_path / "controls.txt"
    controls.write_bytes(bytes(range(1, 9)) * 500 + b"a few letters")
    assert not load_error(controls).skipped
    png = tmp_path / "image.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(500))
    error = load_error(png)
    assert not error.skipped and "PNG" in error.hint
    pdf_as_text = tmp_path / "report.txt"
    shutil.copy(fx.make_pdf(tmp_path), pdf_as_text)
    assert "PDF" in load_error(pdf_as_text).hint


def test_empty_and_whitespace_files_are_skipped(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    error = load_error(empty)
    assert error.skipped and "empty" in error.message
    blank = tmp_path / "blank.md"
    blank.write_text("\n   \n\t\n", encoding="utf-8")
    error = load_error(blank)
    assert error.skipped and "no text" in error.message
    html = tmp_path / "chrome.html"
    html.write_text("<html><body><nav>menu</nav><script>x()</script></body></html>", encoding="utf-8")
    assert load_error(html).skipped


def test_unsupported_extension_is_skipped(tmp_path: Path) -> None:
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00" + bytes(200))
    error = load_error(exe)
    assert error.skipped
    assert "unsupported file type '.exe'" in error.message
    assert ".pdf" in error.hint


def test_file_over_max_bytes_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 5000, encoding="utf-8")
    error = load_error(path, max_bytes=1000)
    assert error.skipped and "limit" in error.message
    assert load_file(path, max_bytes=10_000).text == "x" * 5000


def test_unreadable_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user (root) that can read a chmod 000 file")
        error = load_error(path)
        assert not error.skipped and "permission denied" in error.message
    finally:
        path.chmod(0o644)


def test_permission_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    error = load_error(path)
    assert not error.skipped
    assert error.message == "cannot read secret.txt: permission denied"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert not load_error(tmp_path / "nope.pdf").skipped
    assert load_error(tmp_path).skipped


# Clean stage


def test_clean_text_fixes_and_preserves() -> None:
    assert clean_text("The beneﬁts of ﬂexible ﬀ") == "The benefits of flexible ff"
    assert clean_text("Æble and cœur stay") == "Æble and cœur stay"
    assert clean_text("it\x92s \x93quoted\x94") == "it’s “quoted”"
    assert clean_text("a\x00b\x07c\u200bd\ufeff") == "abcd"
    assert clean_text("one  two\n    indented  code\n\n\n\nthree  ") == "one two\n    indented code\n\nthree"
    assert clean_text("• first\n\uf0b7 second") == "- first\n- second"
    assert clean_text("page one\x0cpage two") == "page one\n\npage two"
    chinese = "员工手册：第一章（总则）“引号”——破折号……《书名》、顿号！１２３"
    assert clean_text(chinese) == chinese
    assert clean_text("中文\u00a0空格\u3000全角") == "中文 空格 全角"


@pytest.mark.slow
def test_fifty_megabyte_single_line_text_memory_and_speed(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    size = 50 * 2**20
    with path.open("wb") as handle:
        chunk = b"lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 4096
        written = 0
        while written < size:
            handle.write(chunk)
            written += len(chunk)
    size = path.stat().st_size
    script = (
        "import resource, sys, time; from pathlib import Path; from ingest.loaders import load_file; "
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; t = time.perf_counter(); "
        "doc = load_file(Path(sys.argv[1])); took = time.perf_counter() - t; "
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "print(len(doc.sections[0].text), (peak - base) * 1024, took)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True, timeout=300
    )
    chars, grown, took = result.stdout.split()
    assert int(chars) > 0.99 * size
    assert int(grown) < 4 * size, f"peak memory grew {int(grown) / 2**20:.0f} MB for a {size >> 20} MB file"
    assert float(took) < 30
