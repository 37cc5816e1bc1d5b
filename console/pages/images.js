// 镜像: the list with its tabs (公共镜像 / 私有镜像 / 共享镜像), filters, paging, the quota line
// (您还可以创建N个私有镜像, the catalog's words) and 删除 / 共享 of the checked images.
import { api } from "../lib/api.js";
import { confirmDialog, formatTime, h, note } from "../lib/dom.js";
import { session, statusLabel, t } from "../lib/session.js";
import * as recipient from "./shared.js";
import { shareDialog } from "./share.js";

const TABS = ["public", "private", "shared"];
const names = new Map(); // image id -> name, for the outcomes of a delete

export function render(main, params) {
  const tab = TABS.includes(params.get("tab")) ? params.get("tab") : "private";
  const tabs = h("div", { role: "tablist", "aria-label": t("images") }, TABS.map((name) =>
    h("a", { role: "tab", href: `#/images?tab=${name}`, "aria-selected": String(name === tab) }, t(name))));
  main.append(h("h1", {}, t("images")), h("p", { class: "intro" }, t("intro")),
    h("a", { href: "#/create", class: "button primary", id: "create" }, `+ ${t("create")}`), tabs);
  const body = h("div", { role: "tabpanel" });
  main.append(body);
  if (tab === "shared") return recipient.render(body, params);
  return list(body, tab, params);
}

function list(body, tab, params) {
  const filters = h("form", { id: "filters", class: "filters" },
    h("label", { for: "f-status", class: "sr-only" }, t("status")),
    h("select", { id: "f-status", name: "status" },
      h("option", { value: "" }, t("all_status")),
      ["creating", "normal", "failed"].map((s) => h("option", { value: s, selected: params.get("status") === s }, t(`st_${s}`)))),
    h("label", { for: "f-os", class: "sr-only" }, t("os")),
    h("select", { id: "f-os", name: "os_family" },
      h("option", { value: "" }, t("all_os")),
      ["windows", "linux"].map((f) => h("option", { value: f, selected: params.get("os_family") === f }, f === "windows" ? "Windows" : "Linux"))),
    h("label", { for: "f-name" }, t("filter_name")),
    h("input", { id: "f-name", name: "name", value: params.get("name") ?? "" }),
    h("button", { type: "submit" }, t("search")));
  const quota = h("p", { id: "quota", role: "status" });
  const actions = h("div", { class: "buttons" });
  const outcome = h("div", { id: "outcome" });
  const table = h("div", { id: "list" }, t("loading"));
  body.append(quota, actions, filters, outcome, table);
  const cursors = [null];
  const load = (cursor) => fill(tab, filters, quota, table, cursors, cursor).catch((e) => table.replaceChildren(note(e.message, "error")));
  filters.addEventListener("submit", (event) => { event.preventDefault(); cursors.length = 1; load(null); });
  if (tab === "private") {
    const checked = () => [...table.querySelectorAll("input[name=pick]:checked")].map((c) => c.value);
    actions.append(
      h("button", { type: "button", id: "batch-delete", onclick: () => deleteImages(checked(), outcome, () => load(cursors.at(-1))) }, t("delete")),
      h("button", { type: "button", id: "batch-share", onclick: () => {
        const ids = checked();
        if (!ids.length) return outcome.replaceChildren(note(t("select_first"), "error"));
        shareDialog(ids, () => load(cursors.at(-1)));
      } }, t("share")));
  }
  load(null);
}

async function fill(tab, filters, quota, table, cursors, cursor) {
  const query = new URLSearchParams({ tab, limit: "10" });
  for (const [key, value] of new FormData(filters)) if (value) query.set(key, value);
  if (cursor) query.set("cursor", cursor);
  const page = await api("GET", `/v1/images?${query}`);
  quota.textContent = page.quota ? page.quota.text : "";
  for (const image of page.items) names.set(image.id, image.name);
  const owner = tab === "private";
  const head = [owner ? "" : null, "name", "status", "os", "type", "created", "disk", "size", owner ? "shared_col" : null, "ops"].filter((k) => k !== null);
  const rows = page.items.map((image) => h("tr", {},
    owner ? h("td", {}, h("input", { type: "checkbox", name: "pick", value: image.id, "aria-label": `${t("select")} ${image.name}` })) : null,
    h("td", {}, h("a", { href: `#/images/${image.id}` }, image.name)),
    h("td", { class: `st-${image.status}` }, statusLabel(image), image.status === "creating" ? ` ${image.progress}%` : ""),
    h("td", {}, image.os_label ?? "--"),
    h("td", {}, image.image_type),
    h("td", {}, formatTime(image.created_at, session.lang)),
    h("td", {}, image.system_disk_gb ?? "--"),
    h("td", {}, image.size_label ?? "--"),
    owner ? h("td", {}, image.shared ? t("yes") : t("no")) : null,
    h("td", { class: "ops" }, owner
      ? [h("a", { href: `#/images/${image.id}?edit=1` }, t("modify")),
        h("button", { type: "button", class: "link", onclick: () => shareDialog([image.id], () => fill(tab, filters, quota, table, cursors, cursor)) }, t("share")),
        h("button", { type: "button", class: "link", onclick: () => deleteImages([image.id], table.parentElement.querySelector("#outcome"), () => fill(tab, filters, quota, table, cursors, cursor)) }, t("delete"))]
      : h("a", { href: `#/images/${image.id}` }, t("detail")))));
  const pager = h("div", { class: "pager" },
    cursors.length > 1 ? h("button", { type: "button", onclick: () => { cursors.pop(); fill(tab, filters, quota, table, cursors, cursors.at(-1)); } }, t("prev")) : null,
    page.next_cursor ? h("button", { type: "button", onclick: () => { cursors.push(page.next_cursor); fill(tab, filters, quota, table, cursors, page.next_cursor); } }, t("next")) : null);
  table.replaceChildren(rows.length
    ? h("table", {}, h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, k ? t(k) : "")))), h("tbody", {}, rows))
    : note(t("none")), pager);
}

/** 删除, single or batch: one confirm, then the catalog's per-image outcomes. */
export async function deleteImages(ids, outcome, done) {
  if (!ids.length) return outcome.replaceChildren(note(t("select_first"), "error"));
  if (!(await confirmDialog(t("delete_title"), t("delete_confirm", ids.length), t("confirm"), t("cancel")))) return;
  let results = null;
  try {
    ({ results } = await api("POST", "/v1/images/delete", { image_ids: ids }));
    outcome.replaceChildren(h("h2", {}, t("outcomes")), h("ul", { class: "outcomes" }, results.map((r) =>
      h("li", { class: r.outcome, "data-image": r.image_id }, `${names.get(r.image_id) ?? r.image_id}: ${t(r.outcome)}${r.detail ? ` — ${r.detail}` : ""}`))));
  } catch (error) {
    outcome.replaceChildren(note(error.message, "error"));
  }
  done(results);
}
