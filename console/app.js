// The console: plain ES modules, no build step. Pages are addressed by the fragment.
import { TEXT } from "./i18n.js";

const state = {
  token: sessionStorage.getItem("ims.token"),
  lang: localStorage.getItem("ims.lang") || "zh-CN",
  tab: "private",
};
const $ = (selector) => document.querySelector(selector);
const t = (key, ...args) => {
  const value = TEXT[state.lang][key];
  return typeof value === "function" ? value(...args) : value;
};
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// #token=<bearer> (scripts, tests): taken, then removed from the address bar and history.
const handed = new URLSearchParams(location.hash.slice(1)).get("token");
if (handed) {
  state.token = handed;
  sessionStorage.setItem("ims.token", handed);
  history.replaceState(null, "", location.pathname + location.search);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${state.token}`,
      "Accept-Language": state.lang,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(data?.detail || response.statusText), { data });
  return data;
}

async function signInPage() {
  const main = $("#main");
  main.innerHTML = `<h1>${esc(t("signin_title"))}</h1><ul id="accounts"></ul>`;
  const response = await fetch("/demo-accounts.json");
  if (!response.ok) return;
  for (const account of (await response.json()).accounts) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.textContent = `${t("signin")}: ${account.name}${account.admin ? " (admin)" : ""}`;
    button.addEventListener("click", () => {
      state.token = account.token;
      sessionStorage.setItem("ims.token", account.token);
      start();
    });
    li.append(button);
    $("#accounts").append(li);
  }
}

async function imagesPage(cursor) {
  const main = $("#main");
  const tabs = ["public", "private", "shared"]
    .map((tab) => `<button role="tab" aria-selected="${tab === state.tab}" data-tab="${tab}">${esc(t(tab))}</button>`)
    .join(" ");
  main.innerHTML = `<h1>${esc(t("images"))}</h1><div role="tablist">${tabs}</div>
    <form id="filters"><label for="f-name">${esc(t("filter_name"))}</label>
    <input id="f-name" name="name"> <button type="submit">${esc(t("search"))}</button></form>
    <p id="quota"></p><div id="list"></div>`;
  main.querySelectorAll("[role=tab]").forEach((b) =>
    b.addEventListener("click", () => { state.tab = b.dataset.tab; imagesPage(); }));
  $("#filters").addEventListener("submit", (e) => { e.preventDefault(); listImages(); });
  listImages(cursor);
}

async function listImages(cursor) {
  const params = new URLSearchParams({ tab: state.tab, limit: "20" });
  const name = $("#f-name")?.value;
  if (name) params.set("name", name);
  if (cursor) params.set("cursor", cursor);
  const page = await api("GET", `/v1/images?${params}`);
  $("#quota").textContent = page.quota ? page.quota.text : ""; // 您还可以创建N个私有镜像
  const rows = page.items.map((i) => `<tr><td>${esc(i.name)}</td><td>${esc(i.status_label)}</td>
    <td>${esc(i.os_label)}</td><td>${esc(i.image_type)}</td><td>${esc(i.system_disk_gb)}</td><td>${esc(i.size_label)}</td></tr>`);
  $("#list").innerHTML = rows.length
    ? `<table><thead><tr>${["name", "status", "os", "type", "disk", "size"].map((k) => `<th scope="col">${esc(t(k))}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`
    : `<p>${esc(t("none"))}</p>`;
  if (page.next_cursor) {
    const more = document.createElement("button");
    more.textContent = t("next");
    more.addEventListener("click", () => listImages(page.next_cursor));
    $("#list").append(more);
  }
}

// 是否接受镜像, pushed: fetch() + ReadableStream (EventSource cannot send the token).
let streamAbort = null;
async function followPrompt() {
  streamAbort?.abort();
  streamAbort = new AbortController();
  for (;;) {
    try {
      const response = await fetch("/v1/prompts/stream", {
        headers: { Authorization: `Bearer ${state.token}`, "Accept-Language": state.lang },
        signal: streamAbort.signal,
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (block.startsWith("event: prompt") && data) showPrompt(JSON.parse(data.slice(6)));
        }
      }
    } catch (e) {
      if (streamAbort.signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 3000)); // the stream's retry: 3000
  }
}

function showPrompt(body) {
  const box = $("#prompt");
  const prompt = body.prompts[0];
  box.hidden = !prompt;
  if (!prompt) { box.innerHTML = ""; if (state.tab === "shared") listImages(); return; }
  const names = prompt.images.map((i) => `<li>${esc(i.name)} (${esc(i.owner_account_name)})</li>`).join("");
  const buttons = prompt.actions.filter((a) => a.method === "POST")
    .map((a, n) => `<button data-i="${n}" class="${n === 0 ? "primary" : ""}">${esc(a.label)}</button>`).join(" ");
  box.innerHTML = `<h2 id="prompt-title">${esc(prompt.title)}</h2><p>${esc(prompt.text)}</p><ul>${names}</ul>${buttons}`;
  const posts = prompt.actions.filter((a) => a.method === "POST");
  box.querySelectorAll("button").forEach((b) =>
    b.addEventListener("click", async () => { await api("POST", posts[b.dataset.i].path, posts[b.dataset.i].body); listImages(); }));
}

function start() {
  document.documentElement.lang = state.lang;
  $("#lang").textContent = t("switch");
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("#signout").hidden = !state.token;
  if (!state.token) return signInPage();
  imagesPage();
  followPrompt();
}

$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("ims.lang", state.lang);
  start();
});
$("#signout").addEventListener("click", () => {
  sessionStorage.removeItem("ims.token");
  state.token = null;
  streamAbort?.abort();
  $("#prompt").hidden = true;
  start();
});
start();
