// Drives the chat page in headless Chromium through what a user does with a knowledge base of files
// ingested on the server: the last used knowledge base comes back, a new one is made in a dialog whose
// rule is the server's, failed files are counted and shown, a cited file opens, an answer is copied and
// regenerated. Usage: node library.mjs BASE_URL ARTIFACT_DIR API_KEY COLLECTION INGESTED_FOLDER
// Prints one JSON line with what it saw; exits non-zero on failure (after saving a screenshot).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, artifacts, apiKey, collection, folder] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const seen = { consoleErrors: [], failedRequests: [], requests: [] };
let expectRejections = false;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
await context.addInitScript((key) => localStorage.setItem("rag.apiKey", key), apiKey);
const page = await context.newPage();
page.on("console", (msg) => {
  // Where the script asks for what the server refuses (bad names: 422, a moved file: 404), Chromium logs it.
  const expected = expectRejections && msg.text().includes(`status of ${expectRejections}`);
  if (msg.type() === "error" && !expected) seen.consoleErrors.push(msg.text());
});
page.on("requestfailed", (req) => {
  const streamed = req.method() === "POST" && req.failure()?.errorText === "net::ERR_ABORTED";
  if (!streamed) seen.failedRequests.push(`${req.url()} ${req.failure()?.errorText}`);
});
page.on("request", (req) => {
  if (!req.url().startsWith(baseUrl) && !req.url().startsWith("blob:")) seen.failedRequests.push(`off-site: ${req.url()}`);
  if (req.url().startsWith(baseUrl)) seen.requests.push(`${req.method()} ${new URL(req.url()).pathname}`);
});

const shot = (name) => page.screenshot({ path: join(artifacts, name) });
const ready = async () => {
  await page.waitForSelector("body[data-ready='true']", { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector("#document-count").textContent !== "", null, { timeout: 10_000 });
};
const answers = () => page.locator(".msg.assistant");
const finished = (n) =>
  page.waitForFunction((count) => document.querySelectorAll(".msg.assistant .footer").length >= count && !document.querySelector(".answer.streaming, .searching"), n, { timeout: 180_000 });

async function openedTab(click) {
  const [tab] = await Promise.all([context.waitForEvent("page", { timeout: 30_000 }), click()]);
  await tab.waitForURL(/^blob:/, { timeout: 30_000 });
  return tab;
}

try {
  // The UI strings: both languages have the same keys.
  const source = readFileSync(new URL("../../api/static/i18n.js", import.meta.url), "utf8");
  const strings = eval(`(${source.match(/const STRINGS = (\{[\s\S]*?\n\});/)[1]})`);
  seen.i18nMissing = [
    ...Object.keys(strings.en).filter((k) => !(k in strings.zh)).map((k) => `zh.${k}`),
    ...Object.keys(strings.zh).filter((k) => !(k in strings.en)).map((k) => `en.${k}`),
  ];

  // 1. A first visit picks the default knowledge base; the one chosen last comes back on the next visit.
  await page.goto(baseUrl, { waitUntil: "networkidle" });
  await ready();
  seen.firstCollection = await page.locator("#collection").inputValue();
  seen.options = await page.locator("#collection option").allInnerTexts();
  await page.selectOption("#collection", collection);
  await page.waitForFunction((c) => document.querySelector("#chat-collection").textContent === c, collection);
  await page.reload({ waitUntil: "networkidle" });
  await ready();
  seen.afterReload = await page.locator("#collection").inputValue();

  // 2. Counts agree with the list; a failed file is listed with its status and reason.
  await page.click("#toggle-documents");
  seen.documentCount = await page.locator("#document-count").innerText();
  seen.failedBadge = await page.locator("#document-failed").innerText();
  seen.listed = await page.locator("#document-list .document").count();
  seen.documentNames = await page.locator("#document-list .document .name").allInnerTexts();
  seen.failedItem = (await page.locator("#document-list .document[data-status='failed']").innerText()).replace(/\s+/g, " ");
  seen.optionLabel = await page.locator("#collection option:checked").innerText();
  await shot("library-documents.png");

  // 3. A remembered knowledge base that is gone falls back to the default one.
  await page.evaluate(() => localStorage.setItem("rag.collection", "deleted meanwhile"));
  await page.reload({ waitUntil: "networkidle" });
  await ready();
  seen.afterGone = await page.locator("#collection").inputValue();
  seen.rememberedAfterGone = await page.evaluate(() => localStorage.getItem("rag.collection"));

  // 4. "New knowledge base" is a dialog with the server's rule: a bad name is refused before any request.
  await page.selectOption("#collection", { index: (await page.locator("#collection option").count()) - 1 });
  await page.waitForSelector("#collection-dialog[open]", { timeout: 5_000 });
  seen.selectWhileDialog = await page.locator("#collection").inputValue();
  seen.rule = await page.locator("#collection-rule").innerText();
  const posts = () => seen.requests.filter((r) => r === "POST /v1/collections").length;
  const before = posts();
  seen.refused = {};
  for (const bad of ["a/b", "..", "x".repeat(65), "   "]) {
    await page.fill("#collection-name", bad);
    await page.click("#collection-create");
    seen.refused[bad.length > 10 ? "65 x" : bad] = await page.locator("#collection-name-error").innerText();
  }
  seen.postsForBadNames = posts() - before;
  seen.dialogStillOpen = await page.locator("#collection-dialog[open]").count();
  await shot("library-new-collection.png");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#collection-dialog", { state: "hidden" });
  seen.afterEscape = await page.locator("#collection").inputValue();
  await page.selectOption("#collection", { index: (await page.locator("#collection option").count()) - 1 });
  await page.fill("#collection-name", "  Facilities 设施 ");
  await page.press("#collection-name", "Enter");
  await page.waitForSelector("#collection-dialog", { state: "hidden", timeout: 10_000 });
  await page.waitForFunction(() => document.querySelector("#collection").value === "Facilities 设施");
  seen.created = await page.locator("#collection").inputValue();
  seen.rememberedCreated = await page.evaluate(() => localStorage.getItem("rag.collection"));

  // The page's check and the server agree, name by name (the server has the last word).
  const names = [
    "Küche & 厨房 (2F)", "\u3000全角空格\u3000", "x".repeat(64), "x".repeat(65), "e\u0301".repeat(64), "a/b", "a\\b",
    "..", "...x", "tab\there", "\u200bzero-width", "\ufeffbom", "\u001cfile-separator", "line\nbreak", "😀".repeat(64),
  ];
  expectRejections = "422";
  seen.agreement = await page.evaluate(
    async ({ names, key }) => {
      const out = [];
      for (const name of names) {
        const [stored, problem] = window.checkCollectionName(name, 64);
        const response = await fetch("/v1/collections", {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
          body: JSON.stringify({ name }),
        });
        const body = await response.json();
        if (response.ok) {
          await fetch(`/v1/collections/${encodeURIComponent(body.name)}`, { method: "DELETE", headers: { Authorization: `Bearer ${key}` } });
        }
        out.push({ name: JSON.stringify(name), page: problem === "" ? "ok" : problem, server: response.status, same: (problem === "") === response.ok && (!response.ok || body.name === stored) });
      }
      return out;
    },
    { names, key: apiKey },
  );
  expectRejections = false;

  // 5. Ask in the ingested knowledge base: sources are relative paths; copy; regenerate in place.
  await page.selectOption("#collection", collection);
  await page.fill("#question", "How much does the parking permit cost per month?");
  await page.press("#question", "Enter");
  await finished(1);
  seen.sourceNames = await page.locator(".msg.assistant .sources .source .where").allInnerTexts();
  seen.answer = (await answers().last().locator(".answer").innerText()).trim();
  await page.click(".msg.assistant .action.copy");
  await page.waitForFunction(() => document.querySelector(".msg.assistant .action.copy").textContent === "Copied", null, { timeout: 5_000 });
  seen.copiedLabel = await page.locator(".msg.assistant .action.copy").innerText();
  seen.clipboard = await page.evaluate(() => navigator.clipboard.readText());
  await shot("library-answer.png");

  const conversationId = await page.evaluate(async (key) => {
    const list = await (await fetch("/v1/conversations", { headers: { Authorization: `Bearer ${key}` } })).json();
    return list[0].id;
  }, apiKey);
  const stored = async () =>
    page.evaluate(
      async ({ id, key }) => (await (await fetch(`/v1/conversations/${id}`, { headers: { Authorization: `Bearer ${key}` } })).json()).messages,
      { id: conversationId, key: apiKey },
    );
  const firstAnswerId = (await stored())[1].id;
  await page.click(".msg.assistant .action.regenerate");
  await page.waitForSelector(".msg.assistant .searching, .answer.streaming", { timeout: 10_000 });
  await finished(1);
  seen.regenerateRequests = seen.requests.filter((r) => r.endsWith("/regenerate")).length;
  seen.answersShown = await answers().count();
  const afterRegenerate = await stored();
  seen.storedRoles = afterRegenerate.map((m) => m.role);
  seen.answerReplaced = afterRegenerate[1].id !== firstAnswerId;
  seen.regenerateButtons = await page.locator(".action.regenerate").count();

  // 6. A cited source opens its original file (the API key travels in a header, not in the URL).
  await page.locator(".msg.assistant .sources .source").first().click();
  await page.waitForSelector("#citation[open]");
  seen.citationMeta = await page.locator("#citation-meta").innerText();
  seen.openLabel = await page.locator("#citation-open").innerText();
  const textTab = await openedTab(() => page.click("#citation-open"));
  await textTab.waitForLoadState("load");
  seen.textTabUrl = textTab.url();
  seen.textTab = await textTab.locator("body").innerText();
  await textTab.close();
  // Moved away after it was ingested: the dialog says so, and no empty tab stays open.
  renameSync(join(folder, "policies/parking.md"), join(folder, "policies/parking.moved"));
  try {
    const pages = context.pages().length;
    expectRejections = "404";
    await page.click("#citation-open");
    await page.waitForSelector("#citation-file-error:not([hidden])", { timeout: 10_000 });
    seen.movedError = await page.locator("#citation-file-error").innerText();
    await page.waitForTimeout(300);
    seen.tabsLeftOpen = context.pages().length - pages;
    expectRejections = false;
  } finally {
    renameSync(join(folder, "policies/parking.moved"), join(folder, "policies/parking.md"));
  }
  await page.keyboard.press("Escape");

  // A cited PDF page opens at that page.
  await page.fill("#question", "How often is the coffee machine descaled?");
  await page.press("#question", "Enter");
  await finished(2);
  const pdfSource = page.locator(".msg.assistant").last().locator(".sources .source", { hasText: "manual.pdf" }).first();
  seen.pdfCited = await pdfSource.count();
  if (seen.pdfCited) {
    await pdfSource.click();
    await page.waitForSelector("#citation[open]");
    seen.pdfOpenLabel = await page.locator("#citation-open").innerText();
    const fileResponse = page.waitForResponse((r) => r.url().endsWith("/file"));
    const pdfTab = await openedTab(() => page.click("#citation-open"));
    const response = await fileResponse;
    seen.pdfType = response.headers()["content-type"];
    seen.pdfTabUrl = pdfTab.url();
    await pdfTab.close();
    await page.keyboard.press("Escape");
  }

  // A file whose document list entry is clicked opens too; a failed one has nothing to open.
  if (await page.locator("#document-list").isHidden()) await page.click("#toggle-documents");
  const listTab = await openedTab(() => page.locator("#document-list button.name", { hasText: "parking.md" }).click());
  await listTab.waitForLoadState("load");
  seen.listTab = await listTab.locator("body").innerText();
  await listTab.close();
  seen.failedClickable = await page.locator("#document-list .document[data-status='failed'] button.name").count();
  // HTML could run script in the page's origin: it is saved as a download, never shown in a tab.
  const tabsBefore = context.pages().length;
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 30_000 }),
    page.locator("#document-list button.name", { hasText: "lockers.html" }).click(),
  ]);
  seen.downloadName = download.suggestedFilename();
  seen.downloadText = readFileSync(await download.path(), "utf8");
  seen.tabsForDownload = context.pages().length - tabsBefore;

  // 7. Chinese UI: the dialog's rule in Chinese.
  const zh = await browser.newContext({ viewport: { width: 1280, height: 820 }, locale: "zh-CN" });
  await zh.addInitScript((key) => localStorage.setItem("rag.apiKey", key), apiKey);
  const zhPage = await zh.newPage();
  await zhPage.goto(baseUrl, { waitUntil: "networkidle" });
  await zhPage.waitForSelector("body[data-ready='true']");
  await zhPage.selectOption("#collection", { index: (await zhPage.locator("#collection option").count()) - 1 });
  await zhPage.waitForSelector("#collection-dialog[open]");
  seen.zhRule = await zhPage.locator("#collection-rule").innerText();
  seen.zhTitle = await zhPage.locator("#collection-title").innerText();
  await zhPage.screenshot({ path: join(artifacts, "library-new-collection-zh.png") });
  await zh.close();

  console.log(JSON.stringify(seen));
  await browser.close();
} catch (error) {
  seen.error = String(error && error.stack ? error.stack : error);
  await shot("library-failure.png").catch(() => {});
  writeFileSync(join(artifacts, "library-failure.json"), JSON.stringify(seen, null, 2));
  console.log(JSON.stringify(seen));
  await browser.close();
  process.exit(1);
}
