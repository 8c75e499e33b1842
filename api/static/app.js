import { ApiError, request, setApiKey, stream, upload } from "./api.js";
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

async function api(method, path, body) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await request(method, path, body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || attempt > 2) throw error;
      if (!(await askForKey(attempt > 0))) throw error;
    }
  }
}

/* ---------- citations ---------- */

function where(item) {
  const parts = [item.source];
  if (item.page !== null && item.page !== undefined) parts.push(`${t("page")} ${item.page}`);
  return parts.join(" · ");
}

function openCitation(item) {
  $("citation-number").textContent = item.id;
  $("citation-title").textContent = item.title || item.source;
  const meta = $("citation-meta");
  meta.textContent = "";
  const rows = [[t("file"), item.source]];
  if (item.page !== null && item.page !== undefined) rows.push([t("page"), String(item.page)]);
  if (item.section) rows.push([t("section"), item.section]);
  for (const [name, value] of rows) meta.append(el("dt", {}, name), el("dd", {}, value));
  $("citation-text").textContent = item.text;
  $("citation").showModal();
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

function addAssistantMessage(collection) {
  $("welcome").hidden = true;
  const body = el("div", { class: "body" });
  const node = el("article", { class: "msg assistant" }, icon("logo"), body);
  node.firstChild.classList.add("avatar");
  $("messages").append(node);
  let text = "";
  let answer = null;

  const view = {
    searching() {
      body.replaceChildren(el("div", { class: "searching" }, el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")), t("searching")));
    },
    delta(piece) {
      if (!answer) {
        answer = el("div", { class: "answer streaming" });
        body.replaceChildren(answer);
      }
      text += piece;
      answer.textContent = text;
      scrollToEnd();
    },
    finish(result) {
      const sources = new Map([...(result.context || []), ...(result.citations || [])].map((c) => [c.id, c]));
      if (result.refused) {
        body.replaceChildren(refusedBox(result.collection || collection));
      } else {
        answer = el("div", { class: "answer" });
        renderAnswer(answer, result.answer || text, sources);
        body.replaceChildren(answer);
        const row = sourcesRow(result.citations || []);
        if (row) body.append(row);
      }
      const total = result.timings && result.timings.total;
      if (total) body.append(el("div", { class: "footer" }, t("seconds", { s: total.toFixed(1) })));
      scrollToEnd();
    },
    stopped() {
      if (answer) answer.classList.remove("streaming");
      body.append(el("div", { class: "footer" }, t("stopped")));
    },
    fail(error) {
      if (answer) answer.classList.remove("streaming");
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
  const conversationId = state.conversationId;
  addUserMessage(question);
  const view = addAssistantMessage(state.collection);
  view.searching();
  setBusy(true);
  state.controller = new AbortController();
  try {
    const path = `/v1/conversations/${conversationId}/messages`;
    for await (const { event, data } of stream(path, { content: question, stream: true }, state.controller.signal)) {
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

function renderCollections() {
  const select = $("collection");
  select.replaceChildren();
  const names = state.collections.map((c) => c.name);
  if (state.collection && !names.includes(state.collection)) names.unshift(state.collection);
  for (const name of names) {
    const info = state.collections.find((c) => c.name === name);
    const label = info ? `${name} (${info.documents})` : name;
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

function selectCollection(name, startNewChat = true) {
  state.collection = name;
  try {
    localStorage.setItem(LAST_COLLECTION, name);
  } catch {
    /* ignore */
  }
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
  const name = (prompt(t("newCollectionPrompt")) || "").trim();
  if (!name) {
    renderCollections();
    return;
  }
  try {
    await api("POST", "/v1/collections", { name });
    await refreshCollections();
    selectCollection(name);
  } catch (error) {
    toast(t("error", { m: error.message }));
    renderCollections();
  }
}

async function refreshDocuments() {
  const list = $("document-list");
  const collection = state.collection;
  let listing = { documents: 0, items: [] };
  try {
    listing = await api("GET", `/v1/collections/${encodeURIComponent(collection)}/documents`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) toast(t("error", { m: error.message }));
  }
  if (collection !== state.collection) return;
  $("document-count").textContent = String(listing.documents);
  list.replaceChildren();
  if (!listing.items.length) list.append(el("li", { class: "muted small" }, t("noDocuments")));
  for (const doc of listing.items) {
    const failed = doc.status === "failed";
    list.append(
      el(
        "li",
        { class: `document${failed ? " failed" : ""}`, title: doc.error || doc.title },
        icon("file"),
        el("span", { class: "name" }, doc.name),
        el("span", { class: "state" }, failed ? t("failed") : t(doc.chunks === 1 ? "onePassage" : "passages", { n: doc.chunks })),
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
  $("open-sidebar").addEventListener("click", openSidebar);
  $("close-sidebar").addEventListener("click", closeSidebar);
  $("scrim").addEventListener("click", closeSidebar);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSidebar();
  });
  try {
    state.info = await api("GET", "/v1/info");
    await refreshCollections();
    let saved = "";
    try {
      saved = localStorage.getItem(LAST_COLLECTION) || "";
    } catch {
      /* ignore */
    }
    const names = state.collections.map((c) => c.name);
    const withDocuments = state.collections.find((c) => c.documents > 0);
    state.collection = names.includes(saved) ? saved : names.includes(state.info.default_collection) ? state.info.default_collection : (withDocuments || state.collections[0] || { name: state.info.default_collection }).name;
    renderCollections();
    await Promise.all([refreshConversations(), refreshDocuments()]);
  } catch (error) {
    toast(t("error", { m: error.message }));
  }
  document.body.dataset.ready = "true";
  $("question").focus();
}

start();
