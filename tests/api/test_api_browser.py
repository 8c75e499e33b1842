"""The chat page in real headless Chromium (Debian `chromium` + playwright-core; scripts/install-browser.sh):
drop a document, ask about it, see the answer stream, open a citation. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from api.app import create_app
from rag.settings import Settings
from tests.api._apitools import RecordingComponents, ServerThread, variant

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
    assert not seen["refused"], seen["answer"]
    assert seen["citations"] >= 1
    assert FILE_NAME in seen["citationMeta"] and "parking permit" in seen["citationText"].lower()
    assert seen["refusedShown"] and "Not in the documents" in seen["refusal"]
    assert seen["narrowMenuVisible"]
    assert seen["zhNewChat"] == "新对话" and seen["zhLang"] == "zh-CN"
    assert not seen["failedRequests"], seen["failedRequests"]
    assert not seen["consoleErrors"], seen["consoleErrors"]
    assert (ARTIFACTS / "chat-citation.png").stat().st_size > 10_000
