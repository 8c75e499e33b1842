const KEY_STORAGE = "rag.apiKey";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function getApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setApiKey(key) {
  try {
    localStorage.setItem(KEY_STORAGE, key);
  } catch {
    /* private mode: the key lives for this page only */
  }
  sessionKey = key;
}

let sessionKey = "";

function headers(extra = {}) {
  const result = { ...extra };
  const key = getApiKey() || sessionKey;
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

async function toError(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const error = body.error || {};
  return new ApiError(response.status, error.type || "http_error", error.message || response.statusText);
}

export async function request(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  if (!response.ok) throw await toError(response);
  return response.status === 204 ? null : response.json();
}

/** GET a file with the API key; resolves with {blob, inline, name} (inline: the server says show it). */
export async function fetchFile(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await toError(response);
  const disposition = response.headers.get("Content-Disposition") || "";
  const encoded = /filename\*=utf-8''([^;]+)/i.exec(disposition);
  const plain = /filename="([^"]*)"/i.exec(disposition);
  const name = encoded ? decodeURIComponent(encoded[1]) : plain ? plain[1] : "";
  return { blob: await response.blob(), inline: disposition.toLowerCase().startsWith("inline"), name };
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const raw = data.join("\n");
  try {
    return { event, data: JSON.parse(raw) };
  } catch {
    return { event, data: raw };
  }
}

/** POST `body` and yield the Server-Sent Events of the response as {event, data}. */
export async function* stream(path, body, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await toError(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let held = "";
    if (buffer.endsWith("\r")) {
      held = "\r";
      buffer = buffer.slice(0, -1);
    }
    buffer = buffer.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
    }
    buffer += held;
  }
  const last = parseBlock(buffer.replace(/\r\n?/g, "\n").trim());
  if (last) yield last;
}

/** Upload files as multipart; `onProgress(fraction)` follows the bytes sent. Resolves with the job. */
export function upload(collection, files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/collections/${encodeURIComponent(collection)}/documents?background=true`);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const error = body.error || {};
        reject(new ApiError(xhr.status, error.type || "http_error", error.message || xhr.statusText));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "the server could not be reached"));
    xhr.send(form);
  });
}
