// Drives the chat page in headless Chromium through multi-turn conversations: each conversation in a new
// chat, one question after another; records, per turn, the "searched for" line under the question, whether
// the answer was refused, and the answer's text. Usage:
//   node conversation.mjs BASE_URL ARTIFACT_DIR API_KEY CONVERSATIONS_JSON   ([["question", ...], ...])
// Prints one JSON line with what it saw; exits non-zero on failure (after saving a screenshot).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, artifacts, apiKey, conversationsJson] = process.argv.slice(2);
const conversations = JSON.parse(conversationsJson);
mkdirSync(artifacts, { recursive: true });
const seen = { consoleErrors: [], failedRequests: [], conversations: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
await context.addInitScript((key) => localStorage.setItem("rag.apiKey", key), apiKey);
const page = await context.newPage();
page.on("console", (msg) => {
  if (msg.type() === "error") seen.consoleErrors.push(msg.text());
});
page.on("requestfailed", (req) => {
  const streamed = req.method() === "POST" && req.failure()?.errorText === "net::ERR_ABORTED";
  if (!streamed) seen.failedRequests.push(`${req.url()} ${req.failure()?.errorText}`);
});
const finished = (n) =>
  page.waitForFunction(
    (count) => document.querySelectorAll(".msg.assistant .footer").length >= count && !document.querySelector(".answer.streaming, .searching"),
    n,
    { timeout: 180_000 },
  );
const turnsOnPage = () =>
  page.evaluate(() =>
    [...document.querySelectorAll(".msg.user")].map((question) => {
      const answer = question.nextElementSibling;
      const searched = question.querySelector(".searched");
      return {
        question: question.querySelector(".bubble").textContent,
        searchedFor: searched ? searched.textContent : null,
        refused: !!answer.querySelector(".refused"),
        answer: (answer.querySelector(".answer") || answer.querySelector(".body")).innerText.trim(),
      };
    }),
  );

try {
  await page.goto(baseUrl, { waitUntil: "networkidle" });
  await page.waitForSelector("body[data-ready='true']", { timeout: 30_000 });
  for (const [i, questions] of conversations.entries()) {
    await page.click("#new-chat");
    for (const [n, question] of questions.entries()) {
      await page.fill("#question", question);
      await page.press("#question", "Enter");
      await finished(n + 1);
    }
    const live = await turnsOnPage();
    await page.screenshot({ path: join(artifacts, `conversation-${i + 1}.png`) });
    // The same conversation opened again from the sidebar: the stored turns show the same lines.
    await page.reload({ waitUntil: "networkidle" });
    await page.waitForSelector("body[data-ready='true']", { timeout: 30_000 });
    await page.locator("#conversation-list .conversation .title").first().click();
    await finished(questions.length);
    const reopened = await turnsOnPage();
    seen.conversations.push({ live, reopened });
  }
  console.log(JSON.stringify(seen));
  await browser.close();
} catch (error) {
  seen.error = String(error && error.stack ? error.stack : error);
  await page.screenshot({ path: join(artifacts, "conversation-failure.png") }).catch(() => {});
  writeFileSync(join(artifacts, "conversation-failure.json"), JSON.stringify(seen, null, 2));
  console.log(JSON.stringify(seen));
  await browser.close();
  process.exit(1);
}
