import { ApiError, fetchFile, request, setApiKey, stream, upload } from "./api.js";
import { applyTranslations, relativeTime, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const NEW_COLLECTION = "\u0000new";
const LAST_COLLECTION = "rag.collection";

const state = {
  info: null,
  collections: [],
  collection: "",
  conversations: [],
  conversationId: null,
  controller: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", name === "logo" ? "0 0 32 32" : "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", `/static/icons.svg#${name}`);
  svg.append(use);
  return svg;
}

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 5000);
}

/* ---------- API key ---------- */

function askForKey(wrong) {
  const dialog = $("key-dialog");
  $("key-error").hidden = !wrong;
  $("key-error").textContent = t("apiKeyWrong");
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const key = $("api-key").value.trim();
        if (key) setApiKey(key);
        resolve(Boolean(key));
      },
      { once: true },
    );
    dialog.showModal();
  });
}

async function withKey(call) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || attempt > 2) throw error;
      if (!(await askForKey(attempt > 0))) throw error;
    }
  }
}

const api = (method, path, body) => withKey(() => request(method, path, body));

/* ---------- original files ---------- */

// Shown in a new tab; anything else is saved as a download (it could run script in this page's origin).
const INLINE_TYPES = /^(application\/pdf|image\/(png|jpeg|gif|webp)|text\/plain)(;|$)/;

// What the server sends inline (api/files.py): a tab is opened for these, the rest is downloaded.
const VIEWABLE = /(\.(pdf|png|jpe?g|gif|webp|txt|text|md|markdown|csv|tsv|log)|\/[^./]+|^[^./]+)$/i;
const isPdf = (name) => /\.pdf$/i.test(name);

function filePath(collection, docId) {
  return `/v1/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(docId)}/file`;
}

/** Open a document's original file (at `page` of a PDF). Resolves when it is open; throws ApiError. */
async function openFile(collection, docId, name, page) {
  // Opened now, inside the click, so that no popup blocker stops it; filled once the file is here.
  const tab = VIEWABLE.test(name) ? window.open("", "_blank") : null;
  try {
    const file = await withKey(() => fetchFile(filePath(collection, docId)));
    const url = URL.createObjectURL(file.blob);
    setTimeout(() => URL.revokeObjectURL(url), 120_000);
    if (file.inline && INLINE_TYPES.test(file.blob.type)) {
      const pdf = file.blob.type.startsWith("application/pdf");
      const target = pdf && page !== null && page !== undefined ? `${url}#page=${page}` : url;
      if (tab) tab.location.href = target;
      else window.open(target, "_blank");
      return;
    }
    if (tab) tab.close();
    const link = el("a", { href: url, download: file.name || name.split("/").pop() || "document" });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    if (tab) tab.close();
    throw error;
  }
}

/* ---------- citations ---------- */

function where(item) {
  const parts = [item.source];
  if (item.page !== null && item.page !== undefined) parts.push(`${t("page")} ${item.page}`);
  return parts.join(" · ");
}

function openCitation(item) {
  const dialog = $("citation");
  dialog.item = item;
  const atPage = item.page !== null && item.page !== undefined && isPdf(item.source);
  $("citation-open-label").textContent = atPage ? t("openFileAtPage", { p: item.page }) : t("openFile");
  $("citation-open").hidden = !item.doc_id || !item.collection;
  $("citation-file-error").hidden = true;
  $("citation-number").textContent = item.id;
  $("citation-title").textContent = item.title || item.source;
  const meta = $("citation-meta");
  meta.textContent = "";
  const rows = [[t("file"), item.source]];
  if (item.page !== null && item.page !== undefined) rows.push([t("page"), String(item.page)]);
  if (item.section) rows.push([t("section"), item.section]);
  for (const [name, value] of rows) meta.append(el("dt", {}, name), el("dd", {}, value));
  $("citation-text").textContent = item.text;
  dialog.showModal();
}

async function openCitedFile() {
  const item = $("citation").item;
  const problem = $("citation-file-error");
  problem.hidden = true;
  try {
    await openFile(item.collection, item.doc_id, item.source, item.page);
  } catch (error) {
    problem.textContent = t("fileFailed", { m: error.message });
    problem.hidden = false;
  }
}

function chip(item) {
  return el(
    "button",
    { class: "chip", type: "button", "aria-label": t("openSource", { n: item.id, where: where(item) }), onclick: () => openCitation(item) },
    String(item.id),
  );
}

function appendText(node, text) {
  text.split("\n").forEach((line, i) => {
    if (i) node.append(el("br"));
    node.append(line);
  });
}

function renderAnswer(container, text, sources) {
  container.textContent = "";
  const marker = /\[(\d+(?:\s*[,，]\s*\d+)*)\]/g;
  for (const paragraph of text.trim().split(/\n{2,}/)) {
    const p = el("p");
    let last = 0;
    for (const match of paragraph.matchAll(marker)) {
      appendText(p, paragraph.slice(last, match.index));
      for (const n of match[1].split(/\s*[,，]\s*/).map(Number)) {
        const item = sources.get(n);
        p.append(item ? chip(item) : `[${n}]`);
      }
      last = match.index + match[0].length;
    }
    appendText(p, paragraph.slice(last));
    container.append(p);
  }
}

function sourcesRow(citations) {
  if (!citations.length) return null;
  const row = el("div", { class: "sources" }, el("span", { class: "sources-label" }, t("sources")));
  for (const item of citations) {
    const detail = [];
    if (item.page !== null && item.page !== undefined) detail.push(`${t("page")} ${item.page}`);
    if (item.section) detail.push(item.section.split(" > ").pop());
    row.append(
      el(
        "button",
        { class: "source", type: "button", "aria-label": t("openSource", { n: item.id, where: where(item) }), onclick: () => openCitation(item) },
        el("span", { class: "chip", "aria-hidden": "true" }, String(item.id)),
        el("span", { class: "where" }, item.source, detail.length ? el("small", {}, detail.join(" · ")) : null),
      ),
    );
  }
  return row;
}

function refusedBox(collection) {
  return el(
    "div",
    { class: "refused", role: "note" },
    icon("search-off"),
    el("div", {}, el("strong", {}, t("notFoundTitle")), el("p", {}, t("notFoundBody", { c: collection }))),
  );
}

/* ---------- messages ---------- */

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function addUserMessage(text) {
  $("welcome").hidden = true;
  $("messages").append(el("div", { class: "msg user" }, el("div", { class: "bubble" }, text)));
  scrollToEnd();
}

/** Under a question read with the conversation (a follow-up), what was searched for instead. */
function showSearchedFor(answerNode, query) {
  const asked = answerNode.previousElementSibling;
  if (!asked || !asked.classList.contains("user")) return;
  const bubble = asked.querySelector(".bubble");
  let line = asked.querySelector(".searched");
  const differs = query && query.trim() !== bubble.textContent.trim();
  if (!differs) {
    if (line) line.remove();
    return;
  }
  if (!line) {
    line = el("div", { class: "searched" });
    asked.append(line);
  }
  line.textContent = t("searchedFor", { q: query.trim() });
}

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain http on another host: no Clipboard API, the older way still works inside a click.
  const box = el("textarea", { readonly: true, class: "visually-hidden" });
  box.value = text;
  document.body.append(box);
  box.select();
  const done = document.execCommand("copy");
  box.remove();
  return done ? Promise.resolve() : Promise.reject(new Error(t("copyFailed")));
}

/** The answer as text to paste elsewhere: its [n] markers, then the sources they refer to. */
function answerAsText(result) {
  const lines = [(result.answer || "").trim()];
  const cited = result.citations || [];
  if (cited.length) {
    lines.push("", `${t("sources")}:`);
    for (const item of cited) lines.push(`[${item.id}] ${where(item)}${item.section ? ` · ${item.section}` : ""}`);
  }
  return lines.join("\n");
}

function actionButton(name, label, onclick) {
  return el("button", { class: `action ${name}`, type: "button", "aria-label": label, title: label, onclick }, icon(name), el("span", {}, label));
}

function addAssistantMessage(collection) {
  $("welcome").hidden = true;
  const body = el("div", { class: "body" });
  const node = el("article", { class: "msg assistant" }, icon("logo"), body);
  node.firstChild.classList.add("avatar");
  $("messages").append(node);
  let text = "";
  let answer = null;
  let shown = null; // the last complete result, shown again when a regeneration is stopped or fails

  const footer = (result) => {
    const row = el("div", { class: "footer" });
    const total = result.timings && result.timings.total;
    if (total) row.append(el("span", { class: "took" }, t("seconds", { s: total.toFixed(1) })));
    if (!result.refused && result.answer) {
      const copy = actionButton("copy", t("copy"), async () => {
        try {
          await copyText(answerAsText(result));
          copy.lastChild.textContent = t("copied");
          setTimeout(() => (copy.lastChild.textContent = t("copy")), 2000);
        } catch (error) {
          toast(t("error", { m: error.message }));
        }
      });
      row.append(copy);
    }
    if (state.conversationId) {
      // Only the latest answer can be asked again: the server replaces the answer after the last question.
      for (const old of document.querySelectorAll(".msg.assistant .action.regenerate")) old.remove();
      row.append(actionButton("regenerate", t("regenerate"), () => regenerate(view)));
    }
    return row;
  };

  const view = {
    node,
    get shown() {
      return shown;
    },
    searching() {
      text = "";
      answer = null;
      node.classList.remove("failed");
      body.replaceChildren(el("div", { class: "searching" }, el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")), t("searching")));
    },
    delta(piece) {
      if (!answer) {
        // The model's text as it comes; the result replaces it with the checked answer.
        answer = el("div", { class: "answer streaming" });
        body.replaceChildren(answer, el("div", { class: "note provisional" }, t("provisional")));
      }
      text += piece;
      answer.textContent = text;
      scrollToEnd();
    },
    finish(result) {
      const here = result.collection || collection;
      const withCollection = (c) => ({ ...c, collection: here });
      const cited = (result.citations || []).map(withCollection);
      const sources = new Map([...(result.context || []), ...(result.citations || [])].map((c) => [c.id, withCollection(c)]));
      shown = { ...result, collection: here };
      showSearchedFor(node, result.rewritten_query);
      if (result.refused) {
        body.replaceChildren(refusedBox(here));
      } else {
        answer = el("div", { class: "answer" });
        renderAnswer(answer, result.answer || text, sources);
        body.replaceChildren(answer);
        const row = sourcesRow(cited);
        if (row) body.append(row);
      }
      body.append(footer(shown));
      scrollToEnd();
    },
    stopped() {
      if (answer) answer.classList.remove("streaming");
      if (shown) view.finish(shown);
      body.append(el("div", { class: "note" }, t("stopped")));
    },
    fail(error) {
      if (answer) answer.classList.remove("streaming");
      if (shown) view.finish(shown);
      body.append(el("div", { class: "failure", role: "alert" }, t("error", { m: error.message })));
      scrollToEnd();
    },
  };
  return view;
}

function showMessages(conversation) {
  const box = $("messages");
  box.replaceChildren($("welcome"));
  $("welcome").hidden = conversation.messages.length > 0;
  for (const message of conversation.messages) {
    if (message.role === "user") addUserMessage(message.content);
    else if (message.role === "assistant") {
      addAssistantMessage(conversation.collection).finish({
        answer: message.content,
        refused: message.refused,
        citations: message.citations,
        collection: conversation.collection,
        timings: (message.extra || {}).timings,
        rewritten_query: (message.extra || {}).rewritten_query,
      });
    }
  }
}

/* ---------- asking ---------- */

function setBusy(busy) {
  $("send").hidden = busy;
  $("stop").hidden = !busy;
  $("messages").setAttribute("aria-busy", String(busy));
  $("question").readOnly = busy;
  for (const button of document.querySelectorAll(".msg.assistant .action.regenerate")) button.disabled = busy;
}

/** Stream `body` to `path` into `view`: deltas, then the result; Stop aborts it. */
async function streamInto(view, path, body) {
  view.searching();
  setBusy(true);
  state.controller = new AbortController();
  try {
    for await (const { event, data } of stream(path, { ...body, stream: true }, state.controller.signal)) {
      if (event === "delta") view.delta(data.text);
      else if (event === "result") view.finish(data);
      else if (event === "error") throw new ApiError(500, data.error.type, data.error.message);
    }
  } catch (error) {
    if (error.name === "AbortError") view.stopped();
    else if (error instanceof ApiError && error.status === 401 && (await askForKey(false))) view.fail(error);
    else view.fail(error);
  } finally {
    state.controller = null;
    setBusy(false);
    await refreshConversations();
    $("question").focus();
  }
}

async function ask(question) {
  const limit = state.info && state.info.limits.max_question_chars;
  if (limit && question.length > limit) {
    toast(t("tooLong", { n: limit }));
    return;
  }
  if (!state.conversationId) {
    const created = await api("POST", "/v1/conversations", { collection: state.collection });
    state.conversationId = created.id;
  }
  addUserMessage(question);
  const view = addAssistantMessage(state.collection);
  await streamInto(view, `/v1/conversations/${state.conversationId}/messages`, { content: question });
}

async function regenerate(view) {
  if (state.controller || !state.conversationId) return;
  await streamInto(view, `/v1/conversations/${state.conversationId}/regenerate`, {});
}

/* ---------- conversations ---------- */

function renderConversations() {
  const list = $("conversation-list");
  list.replaceChildren();
  $("no-conversations").hidden = state.conversations.length > 0;
  for (const conversation of state.conversations) {
    const title = conversation.title || t("untitled");
    const current = conversation.id === state.conversationId;
    list.append(
      el(
        "li",
        { class: "conversation", "aria-current": current ? "true" : "false" },
        el(
          "button",
          { class: "open", type: "button", onclick: () => openConversation(conversation.id) },
          el("span", { class: "title" }, title),
          el("span", { class: "when" }, `${relativeTime(conversation.updated)} · ${conversation.collection}`),
        ),
        el(
          "button",
          { class: "icon-btn", type: "button", "aria-label": t("deleteConversation", { t: title }), onclick: () => deleteConversation(conversation.id) },
          icon("trash"),
        ),
      ),
    );
  }
}

async function refreshConversations() {
  try {
    state.conversations = await api("GET", "/v1/conversations");
    renderConversations();
    const current = state.conversations.find((c) => c.id === state.conversationId);
    $("chat-title").textContent = current ? current.title || t("untitled") : t("newChat");
  } catch (error) {
    toast(t("error", { m: error.message }));
  }
}

async function openConversation(id) {
  const conversation = await api("GET", `/v1/conversations/${id}`);
  state.conversationId = id;
  if (conversation.collection !== state.collection) selectCollection(conversation.collection, false);
  $("chat-title").textContent = conversation.title || t("untitled");
  showMessages(conversation);
  renderConversations();
  closeSidebar();
  $("question").focus();
}

async function deleteConversation(id) {
  if (!confirm(t("confirmDeleteConversation"))) return;
  await api("DELETE", `/v1/conversations/${id}`);
  if (id === state.conversationId) newChat();
  await refreshConversations();
}

function newChat() {
  if (state.controller) state.controller.abort();
  state.conversationId = null;
  $("chat-title").textContent = t("newChat");
  $("messages").replaceChildren($("welcome"));
  $("welcome").hidden = false;
  renderConversations();
  closeSidebar();
  $("question").focus();
}

/* ---------- collections and documents ---------- */

/** The number of files a collection lists: indexed ones and failed ones. */
const fileCount = (info) => info.documents + (info.failed || 0);

function renderCollections() {
  const select = $("collection");
  select.replaceChildren();
  const names = state.collections.map((c) => c.name);
  if (state.collection && !names.includes(state.collection)) names.unshift(state.collection);
  for (const name of names) {
    const info = state.collections.find((c) => c.name === name);
    const label = info ? `${name} (${fileCount(info)})` : name;
    select.append(el("option", { value: name, selected: name === state.collection }, label));
  }
  select.append(el("option", { value: NEW_COLLECTION }, t("newCollection")));
  $("chat-collection").textContent = state.collection;
  $("welcome-empty").hidden = state.collections.some((c) => c.documents > 0);
}

async function refreshCollections() {
  state.collections = await api("GET", "/v1/collections");
  renderCollections();
}

function remember(name) {
  try {
    localStorage.setItem(LAST_COLLECTION, name);
  } catch {
    /* private mode: remembered for this page only */
  }
}

/** The collection to show on load: the last one used here while it exists; else the default one, the
 *  first with documents, the first, or the default name (created by the first upload). */
function initialCollection() {
  let saved = "";
  try {
    saved = localStorage.getItem(LAST_COLLECTION) || "";
  } catch {
    /* ignore */
  }
  const names = state.collections.map((c) => c.name);
  if (names.includes(saved)) return saved;
  const fallback = state.info.default_collection;
  if (names.includes(fallback)) return fallback;
  const withDocuments = state.collections.find((c) => c.documents > 0);
  return (withDocuments || state.collections[0] || { name: fallback }).name;
}

function selectCollection(name, startNewChat = true) {
  state.collection = name;
  remember(name);
  renderCollections();
  refreshDocuments();
  if (startNewChat) newChat();
}

async function onCollectionChange(event) {
  const value = event.target.value;
  if (value !== NEW_COLLECTION) {
    selectCollection(value);
    return;
  }
  renderCollections(); // the select shows the current collection until the new one exists
  openCollectionDialog();
}

/* The server's rule (vectorstore/naming.py, validate_collection_name), checked the same way: surrounding
   white space (Python's set) dropped, NFC, 1..max code points, no control characters, '/' or '\', not
   only dots. Returns [name as the server stores it, i18n key of the problem or ""]. */
const PY_SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const SURROUNDING_SPACE = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");

export function checkCollectionName(raw, max) {
  const name = raw.replace(SURROUNDING_SPACE, "").normalize("NFC");
  const length = [...name].length;
  if (!length) return [name, "nameEmpty"];
  if (length > max) return [name, "nameTooLong"];
  if (/[\p{C}/\\]/u.test(name)) return [name, "nameBadCharacter"];
  if (/^\.+$/.test(name)) return [name, "nameOnlyDots"];
  return [name, ""];
}
window.checkCollectionName = checkCollectionName; // for the browser test, which compares it with the server

function nameLimit() {
  return (state.info && state.info.collection_name && state.info.collection_name.max_chars) || 64;
}

function showNameProblem(problem) {
  const box = $("collection-name-error");
  box.textContent = problem ? t(problem, { n: nameLimit() }) : "";
  box.hidden = !problem;
  $("collection-name").setAttribute("aria-invalid", String(Boolean(problem)));
}

function openCollectionDialog() {
  $("collection-name").value = "";
  $("collection-rule").textContent = t("collectionRule", { n: nameLimit() });
  showNameProblem("");
  $("collection-create").disabled = false;
  $("collection-dialog").showModal();
  $("collection-name").focus();
}

async function createCollection(event) {
  event.preventDefault();
  const [name, problem] = checkCollectionName($("collection-name").value, nameLimit());
  showNameProblem(problem);
  if (problem) {
    $("collection-name").focus();
    return;
  }
  $("collection-create").disabled = true;
  try {
    const created = await api("POST", "/v1/collections", { name });
    $("collection-dialog").close();
    await refreshCollections();
    selectCollection(created.name);
  } catch (error) {
    // The server has the last word: its message, in the dialog, next to the name.
    const box = $("collection-name-error");
    box.textContent = error.message;
    box.hidden = false;
  } finally {
    $("collection-create").disabled = false;
  }
}

function setUpCollectionDialog() {
  $("collection-form").addEventListener("submit", createCollection);
  $("collection-cancel").addEventListener("click", () => $("collection-dialog").close());
  $("collection-name").addEventListener("input", () => {
    const value = $("collection-name").value;
    showNameProblem(value ? checkCollectionName(value, nameLimit())[1] : "");
  });
}

async function refreshDocuments() {
  const list = $("document-list");
  const collection = state.collection;
  let listing = { documents: 0, failed: 0, items: [] };
  try {
    listing = await api("GET", `/v1/collections/${encodeURIComponent(collection)}/documents`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) toast(t("error", { m: error.message }));
  }
  if (collection !== state.collection) return;
  const failedCount = listing.failed || 0;
  $("document-count").textContent = String(listing.items.length);
  $("document-failed").textContent = failedCount ? t("failedCount", { n: failedCount }) : "";
  $("document-failed").hidden = !failedCount;
  list.replaceChildren();
  if (!listing.items.length) list.append(el("li", { class: "muted small" }, t("noDocuments")));
  for (const doc of listing.items) {
    const failed = doc.status === "failed";
    const name = failed
      ? el("span", { class: "name" }, doc.name)
      : el(
          "button",
          { class: "name", type: "button", title: t("openFile"), onclick: () => openFile(collection, doc.doc_id, doc.name).catch((e) => toast(t("fileFailed", { m: e.message }))) },
          doc.name,
        );
    const status = failed ? t("failed") : t(doc.chunks === 1 ? "onePassage" : "passages", { n: doc.chunks });
    list.append(
      el(
        "li",
        { class: `document${failed ? " failed" : ""}${doc.error && !failed ? " stale" : ""}`, "data-status": doc.status },
        icon("file"),
        el(
          "div",
          { class: "doc-main" },
          el("div", { class: "doc-line" }, name, el("span", { class: "state" }, status)),
          doc.error ? el("div", { class: "doc-error" }, failed ? doc.error : t("updateFailed", { m: doc.error })) : null,
        ),
        el(
          "button",
          { class: "icon-btn", type: "button", "aria-label": t("deleteDocument", { name: doc.name }), onclick: () => deleteDocument(doc) },
          icon("trash"),
        ),
      ),
    );
  }
}

async function deleteDocument(doc) {
  if (!confirm(t("confirmDeleteDocument", { name: doc.name, c: state.collection }))) return;
  await api("DELETE", `/v1/collections/${encodeURIComponent(state.collection)}/documents/${doc.doc_id}`);
  await Promise.all([refreshDocuments(), refreshCollections()]);
}

function toggleDocuments() {
  const list = $("document-list");
  list.hidden = !list.hidden;
  $("toggle-documents").setAttribute("aria-expanded", String(!list.hidden));
  $("toggle-documents").textContent = list.hidden ? t("show") : t("hide");
}

/* ---------- uploads ---------- */

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function handleFiles(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  const collection = state.collection;
  const label = el("span", { class: "label" }, t("uploading", { n: files.length }));
  const bar = el("progress", { max: "1", value: "0", "aria-label": t("uploading", { n: files.length }) });
  const item = el("li", { class: "upload" }, el("div", { class: "line" }, label), bar);
  $("uploads").prepend(item);
  try {
    let job = await upload(collection, files, (fraction) => (bar.value = fraction * 0.15));
    while (job.status === "queued" || job.status === "running") {
      label.textContent = job.status === "queued" ? t("queued") : t("indexing", { done: job.files_done, total: job.files_total, name: job.current || "…" });
      bar.value = 0.15 + 0.85 * (job.files_total ? job.files_done / job.files_total : 0);
      await sleep(600);
      job = await api("GET", `/v1/jobs/${job.id}`);
    }
    bar.value = 1;
    const outcomes = job.files || [];
    const count = (status) => outcomes.filter((f) => f.status === status).length;
    if (job.status === "failed" && job.error) throw new Error(job.error);
    label.textContent = t("indexed", { added: count("added") + count("updated"), unchanged: count("unchanged") });
    item.classList.add("done");
    const problems = outcomes.filter((f) => f.status === "failed" || f.status === "skipped");
    if (problems.length) item.append(el("ul", { class: "problems" }, ...problems.map((f) => el("li", {}, `${f.name}: ${f.error}`))));
    else setTimeout(() => item.remove(), 8000);
    await refreshCollections();
    if (collection === state.collection) await refreshDocuments();
  } catch (error) {
    item.classList.add("failed");
    label.textContent = `${t("indexFailed")}: ${error.message}`;
  }
}

function setUpDragAndDrop() {
  const overlay = $("drop-overlay");
  let depth = 0;
  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  window.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    $("drop-overlay-text").textContent = t("dropOverlay", { c: state.collection });
    overlay.hidden = false;
    $("dropzone").classList.add("active");
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) {
      overlay.hidden = true;
      $("dropzone").classList.remove("active");
    }
  });
  window.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  window.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    $("dropzone").classList.remove("active");
    handleFiles(event.dataTransfer.files);
  });
  $("file-input").addEventListener("change", (event) => {
    handleFiles(event.target.files);
    event.target.value = "";
  });
}

/* ---------- layout ---------- */

function openSidebar() {
  $("sidebar").classList.add("open");
  $("scrim").hidden = false;
  $("open-sidebar").setAttribute("aria-expanded", "true");
  $("new-chat").focus();
}

function closeSidebar() {
  if (!$("sidebar").classList.contains("open")) return;
  $("sidebar").classList.remove("open");
  $("scrim").hidden = true;
  $("open-sidebar").setAttribute("aria-expanded", "false");
}

function setUpComposer() {
  const box = $("question");
  const resize = () => {
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 200)}px`;
  };
  box.addEventListener("input", resize);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (!question || state.controller) return;
    box.value = "";
    resize();
    ask(question).catch((error) => toast(t("error", { m: error.message })));
  });
  $("stop").addEventListener("click", () => state.controller && state.controller.abort());
}

async function start() {
  applyTranslations();
  setUpComposer();
  setUpDragAndDrop();
  $("new-chat").addEventListener("click", newChat);
  $("collection").addEventListener("change", onCollectionChange);
  $("toggle-documents").addEventListener("click", toggleDocuments);
  $("citation-open").addEventListener("click", openCitedFile);
  setUpCollectionDialog();
  $("open-sidebar").addEventListener("click", openSidebar);
  $("close-sidebar").addEventListener("click", closeSidebar);
  $("scrim").addEventListener("click", closeSidebar);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSidebar();
  });
  try {
    state.info = await api("GET", "/v1/info");
    await refreshCollections();
    state.collection = initialCollection();
    remember(state.collection);
    renderCollections();
    await Promise.all([refreshConversations(), refreshDocuments()]);
  } catch (error) {
    toast(t("error", { m: error.message }));
  }
  document.body.dataset.ready = "true";
  $("question").focus();
}

start();
