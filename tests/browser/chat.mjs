// Drives the chat page in headless Chromium: drop a document, ask about it, watch the answer stream,
// open a citation. Usage: node chat.mjs BASE_URL ARTIFACT_DIR QUESTION FILE_NAME FILE_TEXT
// Prints one JSON line with what it saw; exits non-zero on failure (after saving a screenshot).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, artifacts, question, fileName, fileText, apiKey] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const seen = { consoleErrors: [], failedRequests: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, locale: "en-US" });
const page = await context.newPage();
page.on("console", (msg) => {
  const expected = apiKey && msg.text().includes("status of 401");
  if (msg.type() === "error" && !expected) seen.consoleErrors.push(msg.text());
});
// Chromium sometimes reports a fully read streaming response as ERR_ABORTED; the answer checks cover it.
page.on("requestfailed", (req) => {
  const streamed = req.method() === "POST" && req.failure()?.errorText === "net::ERR_ABORTED";
  if (!streamed) seen.failedRequests.push(`${req.url()} ${req.failure()?.errorText}`);
});
page.on("request", (req) => {
  if (!req.url().startsWith(baseUrl)) seen.failedRequests.push(`off-site request: ${req.url()}`);
});

async function shot(name) {
  await page.screenshot({ path: join(artifacts, name), fullPage: false });
}

try {
  await page.goto(baseUrl, { waitUntil: "networkidle" });
  if (apiKey) {
    // The API answers 401: the page asks for the key once and keeps it.
    await page.waitForSelector("#key-dialog[open]", { timeout: 30_000 });
    await page.fill("#api-key", apiKey);
    await page.press("#api-key", "Enter");
    seen.askedForKey = true;
  }
  await page.waitForSelector("body[data-ready='true']", { timeout: 30_000 });
  seen.title = await page.title();
  seen.collection = await page.locator("#collection").inputValue();

  // Drag and drop a file onto the page, as a user would from their desktop.
  await page.evaluate(
    ({ name, text }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], name, { type: "text/plain" }));
      for (const type of ["dragenter", "dragover", "drop"]) {
        window.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    { name: fileName, text: fileText },
  );
  await page.waitForSelector("#uploads .upload", { timeout: 10_000 });
  await page.waitForSelector("#uploads .upload.done, #uploads .upload.failed", { timeout: 180_000 });
  seen.upload = (await page.locator("#uploads .upload").first().innerText()).trim();
  if (await page.locator("#uploads .upload.failed").count()) throw new Error(`upload failed: ${seen.upload}`);
  await page.click("#toggle-documents");
  seen.documents = await page.locator("#document-list .document .name").allInnerTexts();

  // Ask with the keyboard; the answer must stream in before the final result arrives.
  await page.fill("#question", question);
  await page.press("#question", "Enter");
  await page.waitForSelector(".msg.user .bubble", { timeout: 10_000 });
  await page.waitForSelector(".answer.streaming", { timeout: 180_000 });
  [seen.streamedText, seen.provisional] = await page.evaluate(() => [
    document.querySelector(".answer.streaming")?.innerText ?? "",
    document.querySelector(".msg.assistant .provisional")?.innerText ?? "",
  ]);
  seen.streamed = true;
  await page.waitForSelector(".msg.assistant .footer", { timeout: 180_000 });
  seen.provisionalAfter = await page.locator(".msg.assistant .provisional").count();
  seen.refused = (await page.locator(".msg.assistant .refused").count()) > 0;
  seen.answer = (await page.locator(".msg.assistant .body").last().innerText()).trim();
  await shot("chat-answer.png");

  // Open the first citation chip: a dialog shows file, page/section and the passage.
  const chips = page.locator(".msg.assistant .sources .source");
  seen.citations = await chips.count();
  if (!seen.citations) throw new Error(`no citation chips in the answer: ${seen.answer}`);
  await chips.first().click();
  await page.waitForSelector("#citation[open]", { timeout: 5_000 });
  seen.citationTitle = await page.locator("#citation-title").innerText();
  seen.citationMeta = await page.locator("#citation-meta").innerText();
  seen.citationText = await page.locator("#citation-text").innerText();
  await shot("chat-citation.png");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#citation", { state: "hidden", timeout: 5_000 });

  seen.conversations = await page.locator("#conversation-list .conversation .title").allInnerTexts();

  // A question the documents cannot answer shows the honest "not in the documents" state.
  await page.fill("#question", "What is the boiling point of liquid nitrogen?");
  await page.press("#question", "Enter");
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant .footer").length >= 2, null, {
    timeout: 180_000,
  });
  seen.refusal = (await page.locator(".msg.assistant").last().innerText()).trim();
  seen.refusedShown = (await page.locator(".msg.assistant").last().locator(".refused").count()) > 0;
  await shot("chat-refused.png");

  // A narrow screen: the sidebar becomes a drawer behind the menu button.
  await page.setViewportSize({ width: 390, height: 780 });
  await page.waitForTimeout(400);
  seen.narrowMenuVisible = await page.locator("#open-sidebar").isVisible();
  await shot("chat-narrow.png");
  await page.click("#open-sidebar");
  await page.waitForTimeout(300);
  await shot("chat-narrow-menu.png");

  // Chinese UI follows the browser language.
  const zh = await browser.newContext({ viewport: { width: 1280, height: 820 }, locale: "zh-CN" });
  const zhPage = await zh.newPage();
  if (apiKey) await zhPage.addInitScript((key) => localStorage.setItem("rag.apiKey", key), apiKey);
  await zhPage.goto(baseUrl, { waitUntil: "networkidle" });
  await zhPage.waitForSelector("body[data-ready='true']", { timeout: 30_000 });
  seen.zhNewChat = await zhPage.locator("#new-chat").innerText();
  seen.zhLang = await zhPage.evaluate(() => document.documentElement.lang);
  await zhPage.screenshot({ path: join(artifacts, "chat-zh.png") });
  await zh.close();

  console.log(JSON.stringify(seen));
  await browser.close();
} catch (error) {
  seen.error = String(error && error.stack ? error.stack : error);
  await shot("chat-failure.png").catch(() => {});
  writeFileSync(join(artifacts, "chat-failure.json"), JSON.stringify(seen, null, 2));
  console.log(JSON.stringify(seen));
  await browser.close();
  process.exit(1);
}
