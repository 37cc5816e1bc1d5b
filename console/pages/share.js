// 共享: the dialog (accounts, each with an optional project, answered per pair) and an
// image's tenant list (已有租户N个，还可以添加M个, the sharing service's words) with 删除,
// 全部删除 and 取消共享.
import { api } from "../lib/api.js";
import { confirmDialog, formatTime, h, modal, note } from "../lib/dom.js";
import { session, t } from "../lib/session.js";

/** The 共享 dialog for one image (its tenant count shown) or several (POST /v1/shares). */
export function shareDialog(imageIds, done) {
  const recipients = [];
  const chosen = h("ul", { id: "recipients", "aria-label": t("recipients") });
  const summary = h("p", { id: "share-summary", role: "status" });
  const results = h("div", { id: "share-results" });
  const account = h("input", { id: "share-account", autocomplete: "off" });
  const project = h("input", { id: "share-project", autocomplete: "off" });
  const redraw = () => chosen.replaceChildren(...recipients.map((r, n) => h("li", {},
    r.project ? `${r.name} / ${r.project}` : r.name, " ",
    h("button", { type: "button", class: "link", onclick: () => { recipients.splice(n, 1); redraw(); } }, t("remove")))));
  const add = () => {
    const name = account.value.trim();
    if (!name) return;
    recipients.push(project.value.trim() ? { name, project: project.value.trim() } : { name });
    account.value = project.value = "";
    redraw();
    account.focus();
  };
  const ok = h("button", { type: "button", class: "primary", id: "share-ok", onclick: async () => {
    add();
    if (!recipients.length) return;
    try {
      const answer = imageIds.length === 1
        ? await api("POST", `/v1/images/${imageIds[0]}/members`, { accounts: recipients })
        : await api("POST", "/v1/shares", { image_ids: imageIds, accounts: recipients });
      if (answer.summary) summary.textContent = answer.summary;
      results.replaceChildren(h("ul", { class: "outcomes" }, answer.results.map((r) => h("li", { class: r.outcome },
        `${r.account.name}${r.account.project ? ` / ${r.account.project}` : ""}: ${r.status_label ?? r.outcome}${r.detail ? ` — ${r.detail}` : ""}`))));
      recipients.length = 0;
      redraw();
      done?.();
    } catch (error) {
      results.replaceChildren(note(error.message, "error"));
    }
  } }, t("confirm"));
  const dialog = modal(t("share_title"),
    summary,
    h("form", { class: "share-form", onsubmit: (e) => { e.preventDefault(); add(); } },
      h("label", { for: "share-account" }, t("account")), account,
      h("label", { for: "share-project" }, t("project")), project,
      h("button", { type: "submit" }, t("add"))),
    chosen, results,
    h("div", { class: "buttons" }, ok, h("button", { type: "button", onclick: () => dialog.close() }, t("close"))));
  if (imageIds.length === 1) {
    api("GET", `/v1/images/${imageIds[0]}/members`).then((m) => { summary.textContent = m.summary; }).catch(() => {});
  }
  account.focus();
  return dialog;
}

/** The image's tenants, for its owner: 已有租户N个，还可以添加M个, 删除 each, 全部删除, 取消共享. */
export async function tenants(section, imageId) {
  const draw = async () => {
    const members = await api("GET", `/v1/images/${imageId}/members`);
    const removeAll = async (label) => {
      if (!(await confirmDialog(label, t("unshare_confirm"), t("confirm"), t("cancel")))) return;
      await api("DELETE", `/v1/images/${imageId}/members`);
      await draw();
    };
    section.replaceChildren(h("div", {},
      h("h2", {}, t("tenants")),
      h("p", { id: "tenant-summary", role: "status" }, members.summary),
      h("div", { class: "buttons" },
        h("button", { type: "button", id: "add-users", onclick: () => shareDialog([imageId], draw) }, t("add_users")),
        members.members.length ? h("button", { type: "button", onclick: () => removeAll(t("remove_all")) }, t("remove_all")) : null,
        members.members.length ? h("button", { type: "button", onclick: () => removeAll(t("unshare")) }, t("unshare")) : null),
      members.members.length ? h("table", { id: "tenants" },
        h("thead", {}, h("tr", {}, ["account", "project_col", "status", "offered", "ops"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, members.members.map((m) => h("tr", {},
          h("td", {}, m.account_name), h("td", {}, m.project_name ?? "--"), h("td", {}, m.status_label),
          h("td", {}, formatTime(m.offered_at, session.lang)),
          h("td", {}, h("button", { type: "button", class: "link", onclick: async () => {
            await api("DELETE", `/v1/images/${imageId}/members/${m.account_id}`);
            await draw();
          } }, t("remove"))))))) : null));
  };
  await draw().catch((e) => section.replaceChildren(note(e.message, "error")));
}
