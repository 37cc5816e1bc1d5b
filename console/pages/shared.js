// 共享镜像 for a recipient: 待接受 / 已接受 / 已拒绝 (the sharing service's lists) with 接受,
// 拒绝, 移除 (an accepted image leaves the list: it moves to 已拒绝) and 再次接受. The list
// redraws itself when the pushed prompt changes (an offer arrives or is answered).
import { api } from "../lib/api.js";
import { formatTime, h, note } from "../lib/dom.js";
import { session, t } from "../lib/session.js";
import { onPrompt } from "../prompt.js";

const STATUSES = ["accepted", "pending", "rejected"];
const names = new Map(); // image id -> name, for the outcomes of an answer
// What each list offers for its checked images: [label, the sharing API's path].
const ACTIONS = {
  pending: [["accept", "/v1/shared-images/accept"], ["reject", "/v1/shared-images/reject"]],
  accepted: [["remove_shared", "/v1/shared-images/reject"]],
  rejected: [["reaccept", "/v1/shared-images/accept"]],
};

export function render(body, params) {
  const status = STATUSES.includes(params.get("status")) ? params.get("status") : "accepted";
  const nav = h("div", { class: "subtabs", role: "tablist", "aria-label": t("shared") }, STATUSES.map((s) =>
    h("a", { role: "tab", href: `#/images?tab=shared&status=${s}`, "aria-selected": String(s === status) }, t(s))));
  const outcome = h("div", { id: "outcome" });
  const table = h("div", { id: "list" }, t("loading"));
  body.append(nav, outcome, table);
  const load = () => fill(status, table, outcome).catch((e) => table.replaceChildren(note(e.message, "error")));
  load();
  return onPrompt(load);
}

async function fill(status, table, outcome) {
  const page = await api("GET", `/v1/shared-images?status=${status}&limit=100`);
  for (const offer of page.items) names.set(offer.image_id, offer.name);
  const picked = () => [...table.querySelectorAll("input[name=pick]:checked")].map((c) => c.value);
  const act = (path, ids) => answer(path, ids, table, outcome, status);
  const rows = page.items.map((offer) => h("tr", {},
    h("td", {}, h("input", { type: "checkbox", name: "pick", value: offer.image_id, "aria-label": `${t("select")} ${offer.name}` })),
    h("td", {}, status === "accepted" ? h("a", { href: `#/images/${offer.image_id}` }, offer.name) : offer.name),
    h("td", {}, offer.owner_account_name + (offer.project_name ? ` / ${offer.project_name}` : "")),
    h("td", {}, offer.status_label),
    h("td", {}, formatTime(offer.offered_at, session.lang)),
    h("td", { class: "ops" }, ACTIONS[status].map(([label, path]) =>
      h("button", { type: "button", class: "link", onclick: () => act(path, [offer.image_id]) }, t(label))))));
  const batch = h("div", { class: "buttons" }, ACTIONS[status].map(([label, path]) =>
    h("button", { type: "button", onclick: () => act(path, picked()) }, t(label))));
  table.replaceChildren(rows.length
    ? h("div", {}, batch, h("table", {},
      h("thead", {}, h("tr", {}, ["", "name", "owner", "status", "offered", "ops"].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
      h("tbody", {}, rows)))
    : note(t("none")));
}

async function answer(path, ids, table, outcome, status) {
  if (!ids.length) return outcome.replaceChildren(note(t("select_first"), "error"));
  try {
    const { results } = await api("POST", path, { image_ids: ids });
    outcome.replaceChildren(h("ul", { class: "outcomes" }, results.map((r) =>
      h("li", { class: r.outcome }, `${names.get(r.image_id) ?? r.image_id}: ${r.status_label ?? r.outcome}${r.detail ? ` — ${r.detail}` : ""}`))));
  } catch (error) {
    outcome.replaceChildren(note(error.message, "error"));
  }
  await fill(status, table, outcome);
}
