const STRINGS = {
  en: {
    appName: "Knowledge chat",
    sidebarLabel: "Conversations and documents",
    skipToQuestion: "Skip to the question box",
    newChat: "New chat",
    collection: "Knowledge base",
    newCollection: "New knowledge base…",
    newCollectionPrompt: "Name of the new knowledge base (letters, digits, - _ .)",
    conversations: "Conversations",
    noConversations: "No conversations yet",
    documents: "Documents",
    show: "Show",
    hide: "Hide",
    noDocuments: "No documents yet",
    dropHint: "Drop files here, or",
    chooseFiles: "choose files",
    formats: "PDF, Word, PowerPoint, Excel, HTML, Markdown, text, e-mail",
    dropOverlay: "Drop to add to “{c}”",
    menu: "Menu",
    closeMenu: "Close menu",
    messages: "Messages",
    question: "Question",
    askPlaceholder: "Ask a question about your documents…",
    send: "Send",
    stop: "Stop",
    composerHint: "Enter to send, Shift+Enter for a new line. Answers come only from your documents.",
    welcomeTitle: "Ask your documents",
    welcomeBody: "Answers cite the passages they come from. Click a number to read the source.",
    noCollections: "No knowledge base yet. Add documents to create one.",
    searching: "Searching the documents…",
    sources: "Sources",
    notFoundTitle: "Not in the documents",
    notFoundBody: "Nothing in “{c}” answers this. Try other words, or add the document that covers it.",
    stopped: "Stopped.",
    seconds: "{s} s",
    passage: "Cited passage",
    file: "File",
    page: "Page",
    section: "Section",
    document: "Document",
    relevance: "Relevance",
    close: "Close",
    openSource: "Source {n}: {where}",
    deleteConversation: "Delete conversation “{t}”",
    confirmDeleteConversation: "Delete this conversation?",
    deleteDocument: "Remove {name}",
    confirmDeleteDocument: "Remove “{name}” from “{c}”? Answers will no longer use it.",
    untitled: "Untitled",
    uploading: "Uploading {n} file(s)…",
    queued: "Waiting to index…",
    indexing: "Indexing {done} of {total}: {name}",
    indexed: "Indexed: {added} added, {unchanged} unchanged",
    indexFailed: "Indexing failed",
    passages: "{n} passages",
    onePassage: "1 passage",
    failed: "failed",
    apiKeyTitle: "API key required",
    apiKeyBody: "This server needs an API key. Ask your administrator for one.",
    apiKey: "API key",
    apiKeyWrong: "That key was not accepted.",
    save: "Save",
    error: "Something went wrong: {m}",
    justNow: "just now",
    tooLong: "The question is longer than {n} characters.",
  },
  zh: {
    appName: "知识库问答",
    sidebarLabel: "对话与文档",
    skipToQuestion: "跳到提问框",
    newChat: "新对话",
    collection: "知识库",
    newCollection: "新建知识库…",
    newCollectionPrompt: "新知识库的名称（字母、数字、- _ .）",
    conversations: "对话",
    noConversations: "还没有对话",
    documents: "文档",
    show: "展开",
    hide: "收起",
    noDocuments: "还没有文档",
    dropHint: "把文件拖到这里，或",
    chooseFiles: "选择文件",
    formats: "PDF、Word、PowerPoint、Excel、HTML、Markdown、文本、邮件",
    dropOverlay: "松开即可添加到「{c}」",
    menu: "菜单",
    closeMenu: "关闭菜单",
    messages: "消息",
    question: "问题",
    askPlaceholder: "就你的文档提问……",
    send: "发送",
    stop: "停止",
    composerHint: "按 Enter 发送，Shift+Enter 换行。回答只来自你的文档。",
    welcomeTitle: "向你的文档提问",
    welcomeBody: "每个回答都会注明出处，点击编号即可查看原文。",
    noCollections: "还没有知识库。添加文档即可创建。",
    searching: "正在检索文档……",
    sources: "来源",
    notFoundTitle: "文档中没有答案",
    notFoundBody: "「{c}」中没有能回答这个问题的内容。换个说法试试，或添加相关文档。",
    stopped: "已停止。",
    seconds: "{s} 秒",
    passage: "引用的段落",
    file: "文件",
    page: "页码",
    section: "章节",
    document: "文档",
    relevance: "相关度",
    close: "关闭",
    openSource: "来源 {n}：{where}",
    deleteConversation: "删除对话「{t}」",
    confirmDeleteConversation: "删除这个对话？",
    deleteDocument: "移除 {name}",
    confirmDeleteDocument: "从「{c}」中移除「{name}」？之后的回答将不再使用它。",
    untitled: "未命名",
    uploading: "正在上传 {n} 个文件……",
    queued: "等待索引……",
    indexing: "正在索引 {done}/{total}：{name}",
    indexed: "索引完成：新增 {added}，未变 {unchanged}",
    indexFailed: "索引失败",
    passages: "{n} 个段落",
    onePassage: "1 个段落",
    failed: "失败",
    apiKeyTitle: "需要 API 密钥",
    apiKeyBody: "此服务器需要 API 密钥，请向管理员索取。",
    apiKey: "API 密钥",
    apiKeyWrong: "密钥无效。",
    save: "保存",
    error: "出错了：{m}",
    justNow: "刚刚",
    tooLong: "问题超过 {n} 个字符。",
  },
};

function pickLanguage() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in STRINGS) return base;
  }
  return "en";
}

export const lang = pickLanguage();

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function applyTranslations(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("appName");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function relativeTime(epochSeconds) {
  const diff = Date.now() / 1000 - epochSeconds;
  if (diff < 60) return t("justNow");
  const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  if (diff < 3600) return format.format(-Math.round(diff / 60), "minute");
  if (diff < 86400) return format.format(-Math.round(diff / 3600), "hour");
  if (diff < 86400 * 30) return format.format(-Math.round(diff / 86400), "day");
  return new Date(epochSeconds * 1000).toLocaleDateString(lang);
}
