// 是否接受镜像, pushed: the notifier's server-sent events (GET /v1/prompts/stream, through the
// gateway with buffering off). Read with fetch() because EventSource cannot send the token.
// Every `event: prompt` carries the whole current prompt, so showing it replaces the last.
import { api, headers } from "./lib/api.js";
import { $, h, note } from "./lib/dom.js";

let controller = null;
const listeners = new Set();

/** Called with every prompt document (e.g. the 共享镜像 list refreshes itself). */
export function onPrompt(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function stopPrompt() {
  controller?.abort();
  controller = null;
  $("#prompt").hidden = true;
}

export async function followPrompt() {
  controller?.abort();
  const mine = (controller = new AbortController());
  while (!mine.signal.aborted) {
    try {
      const response = await fetch("/v1/prompts/stream", { headers: headers(), signal: mine.signal });
      if (response.status === 401) return; // a bad token: no retry can help
      if (response.ok) await readEvents(response.body, (body) => show(body, mine));
    } catch {
      if (mine.signal.aborted) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the stream's `retry: 3000`
  }
}

async function readEvents(stream, handle) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (lines.includes("event: prompt") && data) handle(JSON.parse(data));
    }
  }
}

function show(body, mine) {
  if (mine.signal.aborted) return;
  const box = $("#prompt");
  const prompt = body.prompts[0];
  box.hidden = !prompt;
  box.replaceChildren();
  if (prompt) {
    const buttons = prompt.actions.map((action) =>
      action.method === "POST"
        ? h("button", { type: "button", class: action.action === "accept_all" ? "primary" : "", onclick: () => answer(action) }, action.label)
        : h("a", { href: "#/images?tab=shared&status=pending", class: "button" }, action.label));
    box.append(
      h("h2", { id: "prompt-title" }, prompt.title),
      h("p", {}, prompt.text),
      h("ul", {}, prompt.images.map((i) => h("li", {}, `${i.name}（${i.owner_account_name}）`))),
      h("div", { class: "buttons" }, buttons),
    );
  }
  for (const listener of listeners) listener(body);
}

async function answer(action) {
  try {
    await api(action.method, action.path, action.body);
  } catch (error) {
    $("#prompt").append(note(error.message, "error"));
  }
  // The stream shows the resolved prompt; the lists that changed listen to it.
}
