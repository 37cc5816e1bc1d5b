// The console: plain ES modules, no build step. Pages are addressed by the fragment
// (#/images?tab=private, #/images/<id>, #/create, #/notices); each page is one module in
// pages/ exporting render(main, params) that fills <main> and returns an optional cleanup.
import { $, note } from "./lib/dom.js";
import { accountName, session, setLanguage, signIn, signOut, t } from "./lib/session.js";
import { followPrompt, stopPrompt } from "./prompt.js";
import * as create from "./pages/create.js";
import * as detail from "./pages/detail.js";
import * as images from "./pages/images.js";
import * as notices from "./pages/notices.js";
import * as signin from "./pages/signin.js";

// #token=<bearer> (scripts, tests): taken, then removed from the address bar and history.
const handed = new URLSearchParams(location.hash.slice(1)).get("token");
if (handed) {
  signIn(handed);
  history.replaceState(null, "", location.pathname + location.search + "#/images");
}

const ROUTES = [
  [/^\/images\/([0-9a-f-]{36})$/, detail],
  [/^\/images$/, images],
  [/^\/create$/, create],
  [/^\/notices$/, notices],
];

let cleanup = null;

function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  cleanup?.();
  cleanup = null;
  const main = $("#main");
  main.replaceChildren();
  if (!session.token) return signin.render(main, params, start);
  for (const [pattern, page] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      params.set("id", match[1] ?? "");
      cleanup = page.render(main, params) ?? null;
      return;
    }
  }
  location.replace("#/images");
}

/** (Re)draws the chrome and the page: after signing in or out and on a language switch. */
export function start() {
  document.documentElement.lang = session.lang;
  document.title = `${t("images")} - IMS`;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("#lang").textContent = t("switch");
  $("#lang").lang = session.lang === "en" ? "zh-CN" : "en";
  $("#signout").hidden = !session.token;
  $("#nav").hidden = !session.token;
  $("#who").textContent = session.token ? accountName() : "";
  if (session.token) followPrompt(); else stopPrompt();
  route();
}

window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => {
  $("#main").prepend(note(`${t("failed_load")}${event.reason?.message ?? event.reason}`, "error"));
});
$("#lang").addEventListener("click", () => {
  setLanguage(session.lang === "en" ? "zh-CN" : "en");
  start();
});
$("#signout").addEventListener("click", () => {
  signOut();
  start();
});

start();
