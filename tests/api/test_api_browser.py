"""The chat page in real headless Chromium (Debian `chromium` + playwright-core; scripts/install-browser.sh):
drop a document, ask about it, see the answer stream, open a citation. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from api.app import create_app
from rag_core.settings import Settings
from tests.api._apitools import RecordingComponents, ServerThread, variant
from tests.helpers import write_pdf

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "chat.mjs"
ARTIFACTS = ROOT / "test-artifacts"
FILE_NAME = "parking-policy.txt"
FILE_TEXT = (
    "Parking policy\n\n"
    "Employees park in the north garage. Each employee gets one parking permit. "
    "The parking permit costs 15 euros per month and is paid through the HR portal.\n"
)
QUESTION = "How much does the parking permit cost per month?"
KEY = "browser-key"

pytestmark = pytest.mark.browser


def test_chat_page_upload_ask_stream_and_open_a_citation(
    api_settings: Settings, components: RecordingComponents
) -> None:
    if shutil.which("node") is None or not (ROOT / "tests/browser/node_modules/playwright-core").is_dir():
        pytest.skip("run scripts/install-browser.sh first (chromium + playwright-core)")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("run scripts/install-browser.sh first (Debian chromium)")
    components.delay = 0.15
    app = create_app(variant(api_settings, api_keys=[KEY], warm_up=False), components)
    with ServerThread(app) as server:
        result = subprocess.run(
            ["node", str(SCRIPT), server.url, str(ARTIFACTS), QUESTION, FILE_NAME, FILE_TEXT, KEY],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=SCRIPT.parent,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["title"] == "Knowledge chat" and seen["askedForKey"]
    assert FILE_NAME in seen["documents"]
    assert seen["streamed"] and seen["streamedText"].strip()
    assert "checked against the sources" in seen["provisional"]  # the streamed text is said to be a draft
    assert seen["provisionalAfter"] == 0  # the checked answer replaces it
    assert not seen["refused"], seen["answer"]
    assert seen["citations"] >= 1
    assert FILE_NAME in seen["citationMeta"] and "parking permit" in seen["citationText"].lower()
    assert seen["refusedShown"] and "Not in the documents" in seen["refusal"]
    assert seen["narrowMenuVisible"]
    assert seen["zhNewChat"] == "新对话" and seen["zhLang"] == "zh-CN"
    assert not seen["failedRequests"], seen["failedRequests"]
    assert not seen["consoleErrors"], seen["consoleErrors"]
    assert (ARTIFACTS / "chat-citation.png").stat().st_size > 10_000


LIBRARY = ROOT / "tests" / "browser" / "library.mjs"
TEAM = "Team 设施"
LOCKERS = "<html><body><p>Lockers are assigned by the front desk.</p><script>alert(1)</script></body></html>"
PARKING = "# Parking\n\nEach employee gets one parking permit. The parking permit costs 15 euros per month.\n"


def test_chat_page_files_copy_regenerate_and_knowledge_bases(
    api_settings: Settings, components: RecordingComponents, tmp_path: Path
) -> None:
    """Files ingested on the server (as `rag ingest FOLDER` does): the last used knowledge base comes back,
    the new-knowledge-base dialog follows the server's rule, failed files are counted and listed, a cited
    file opens (a PDF at its page), an answer is copied and regenerated in place."""
    if shutil.which("node") is None or not (ROOT / "tests/browser/node_modules/playwright-core").is_dir():
        pytest.skip("run scripts/install-browser.sh first (chromium + playwright-core)")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("run scripts/install-browser.sh first (Debian chromium)")
    root = tmp_path / "team-docs"
    (root / "policies").mkdir(parents=True)
    (root / "policies" / "parking.md").write_text(PARKING, encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really a PDF\n")
    (root / "lockers.html").write_text(LOCKERS, encoding="utf-8")
    write_pdf(
        root / "manual.pdf",
        "Coffee machine manual",
        [
            (
                "Introduction",
                "This manual describes the espresso machine in the office kitchen and its parts.",
            ),
            ("Cleaning", "The coffee machine is descaled every Tuesday by the facilities team."),
        ],
    )
    report = components.ingest_pipeline().run([root], TEAM)
    assert report.count("added") == 3 and report.count("failed") == 1, report.to_json()
    app = create_app(variant(api_settings, api_keys=[KEY], warm_up=False), components)
    with ServerThread(app) as server:
        result = subprocess.run(
            ["node", str(LIBRARY), server.url, str(ARTIFACTS), KEY, TEAM, str(root)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=LIBRARY.parent,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["i18nMissing"] == []
    # The knowledge base: the default one first, then the last used one; a gone one falls back.
    assert seen["firstCollection"] == api_settings.collection
    assert seen["afterReload"] == TEAM
    assert seen["afterGone"] == api_settings.collection == seen["rememberedAfterGone"]
    # Counts agree with the list; the failed file shows its status and why.
    assert seen["documentCount"] == "4" == str(seen["listed"]) and seen["failedBadge"].lower() == "1 failed"
    assert seen["optionLabel"] == f"{TEAM} (4)"
    assert seen["documentNames"] == ["broken.pdf", "lockers.html", "manual.pdf", "policies/parking.md"]
    assert "failed" in seen["failedItem"] and "broken.pdf" in seen["failedItem"], seen["failedItem"]
    assert seen["failedClickable"] == 0
    assert seen["downloadName"] == "lockers.html" and seen["downloadText"] == LOCKERS
    assert seen["tabsForDownload"] == 0
    # The dialog: the server's rule, bad names refused without a request, the new one selected.
    assert "any language" in seen["rule"] and "64" in seen["rule"] and "letters, digits" not in seen["rule"]
    assert seen["refused"] == {
        "a/b": "The name contains / or \\ or a control character.",
        "..": "The name cannot be only dots.",
        "65 x": "The name is longer than 64 characters.",
        "   ": "Enter a name.",
    }
    assert seen["postsForBadNames"] == 0 and seen["dialogStillOpen"] == 1
    assert seen["selectWhileDialog"] == seen["afterEscape"] == api_settings.collection
    assert seen["created"] == "Facilities 设施" == seen["rememberedCreated"]
    assert all(row["same"] for row in seen["agreement"]), seen["agreement"]
    assert {row["server"] for row in seen["agreement"]} == {201, 422}
    # Sources are paths relative to the ingested folder; copy and regenerate.
    assert seen["sourceNames"] and all(not s.startswith("/") for s in seen["sourceNames"]), seen[
        "sourceNames"
    ]
    assert any(s.startswith("policies/parking.md") for s in seen["sourceNames"]), seen["sourceNames"]
    assert seen["copiedLabel"] == "Copied"
    assert (
        seen["clipboard"].startswith(seen["answer"].split("\n")[0][:20])
        and "policies/parking.md" in seen["clipboard"]
    )
    assert seen["regenerateRequests"] == 1 and seen["answersShown"] == 1
    assert seen["storedRoles"] == ["user", "assistant"] and seen["answerReplaced"]
    assert seen["regenerateButtons"] == 1
    # The cited file opens in a new tab, from the API with the key; a PDF at the cited page.
    assert "policies/parking.md" in seen["citationMeta"] and seen["openLabel"] == "Open the file"
    assert seen["textTabUrl"].startswith("blob:") and "15 euros per month" in seen["textTab"]
    assert "15 euros per month" in seen["listTab"]
    assert seen["movedError"].startswith(
        "Cannot open the file: the file of 'policies/parking.md' is no longer where it was ingested from"
    )
    assert seen["tabsLeftOpen"] == 0
    assert seen["pdfCited"], "the PDF question did not cite manual.pdf"
    assert seen["pdfOpenLabel"] == "Open the file at page 2" and seen["pdfType"] == "application/pdf"
    assert seen["pdfTabUrl"].startswith("blob:") and seen["pdfTabUrl"].endswith("#page=2")
    assert seen["zhTitle"] == "新建知识库" and "任何语言" in seen["zhRule"]
    assert not seen["failedRequests"], seen["failedRequests"]
    assert not seen["consoleErrors"], seen["consoleErrors"]


CONVERSATION = ROOT / "tests" / "browser" / "conversation.mjs"
CONVERSATIONS = [
    ["What is the capital of Australia?", "How many vacation days do we get?"],
    ["国内出差住宿费每晚上限是多少？", "公司的股票代码是什么？"],
    ["How fast is the NR-7?", "What is its battery life?", "What about its payload?"],
]


def test_chat_page_follows_the_conversation_and_respects_a_change_of_topic(
    api_settings: Settings, components: RecordingComponents
) -> None:
    """The three conversations of issue 21 on the chat page: a change of topic is answered (or refused) as
    if asked alone, with no "searched for" line; a follow-up shows what was searched for; the third turn
    states no figure of another robot. Reopened from the sidebar, the turns show the same."""
    if shutil.which("node") is None or not (ROOT / "tests/browser/node_modules/playwright-core").is_dir():
        pytest.skip("run scripts/install-browser.sh first (chromium + playwright-core)")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("run scripts/install-browser.sh first (Debian chromium)")
    app = create_app(variant(api_settings, api_keys=[KEY], warm_up=False), components)
    with ServerThread(app) as server:
        result = subprocess.run(
            ["node", str(CONVERSATION), server.url, str(ARTIFACTS), KEY, json.dumps(CONVERSATIONS)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=CONVERSATION.parent,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert not seen["failedRequests"], seen["failedRequests"]
    assert not seen["consoleErrors"], seen["consoleErrors"]
    vacation, stock, robot = (c["live"] for c in seen["conversations"])
    for conversation in seen["conversations"]:
        assert conversation["reopened"] == conversation["live"]
    assert vacation[1]["searchedFor"] is None and not vacation[1]["refused"], vacation
    assert "30" in vacation[1]["answer"] or "2.5" in vacation[1]["answer"], vacation
    assert stock[1]["searchedFor"] is None and stock[1]["refused"], stock
    assert robot[0]["searchedFor"] is None
    assert robot[2]["searchedFor"] and "NR-7" in robot[2]["searchedFor"], robot
    assert robot[2]["searchedFor"].startswith("searched for:")
    for sentence in robot[2]["answer"].split(". "):
        assert "250" not in sentence or "NR-5" in sentence, robot[2]
