// An image's detail (the guide's fields: size in GB with 3 decimals, source host, checksum,
// the preflight's findings with what to fix, FAQ 4.7's password notice), 修改 / 删除 / 共享
// for its owner and its tenants. While it is 创建中 the page reads the detail again every
// second (capture's progress has no stream: the prompt is the only pushed document).
import { api } from "../lib/api.js";
import { formatTime, h, note } from "../lib/dom.js";
import { session, statusLabel, t } from "../lib/session.js";
import { deleteImages } from "./images.js";
import { shareDialog, tenants } from "./share.js";

const POLL_MS = 1000;

export function render(main, params) {
  const id = params.get("id");
  let timer = null;
  let gone = false;
  const draw = async (first) => {
    let image;
    try {
      image = await api("GET", `/v1/images/${id}`);
    } catch (error) {
      main.replaceChildren(back(), note(error.message, "error"));
      return;
    }
    if (gone) return;
    main.replaceChildren(back(), h("h1", {}, image.name), facts(image), ...extras(image));
    if (image.status === "normal" && isOwner(image)) {
      const section = h("section", { id: "tenants-section", "aria-label": t("tenants") });
      main.append(actions(image, params.get("edit") === "1" && first, () => tenants(section, id)), section);
      tenants(section, id);
    }
    if (image.status === "creating") timer = setTimeout(() => draw(false), POLL_MS);
  };
  draw(true);
  return () => { gone = true; clearTimeout(timer); };
}

// Only the owner's detail lists the tenants (a recipient gets their count alone).
const isOwner = (image) => image.visibility === "private" && Array.isArray(image.share_tenants?.members);

function back() {
  return h("p", {}, h("a", { href: "#/images" }, `← ${t("back")}`));
}

function facts(image) {
  const source = image.source ? t("source_host", image.source.host_name ?? image.source.host_id) : "--";
  const rows = [
    ["name", image.name], ["status", image.status === "creating" ? t("creating_live", image.progress) : statusLabel(image)],
    ["image_id", image.id], ["os", image.os_label ?? "--"], ["disk", image.system_disk_gb ?? "--"],
    ["min_memory", image.min_memory_mb ?? "--"], ["size", image.size_label ?? "--"],
    ["publish", image.publish_status_label], ["source", source], ["description", image.description || "--"],
    ["created", formatTime(image.created_at, session.lang)], ["checksum", image.checksum_sha256 ?? "--"],
  ];
  if (image.share_tenants) rows.push(["share_users", String(image.share_tenants.count)]);
  if (image.failure) rows.push(["failure", image.failure.reason]);
  return h("dl", { class: "facts", id: "facts" }, rows.map(([key, value]) => [h("dt", {}, t(key)), h("dd", { "data-field": key }, value)]));
}

function extras(image) {
  const parts = [];
  if (image.status === "creating") {
    parts.push(h("progress", { id: "progress", max: "100", value: String(image.progress), "aria-label": t("progress") }));
  }
  if (image.password_notice) {
    parts.push(h("aside", { class: "notice", id: "password-notice" }, h("strong", {}, `${t("password_notice")}：`), image.password_notice));
  }
  if (image.preflight) {
    const p = image.preflight;
    parts.push(h("section", { id: "preflight" }, h("h2", {}, `${t("preflight")}：${p.status_label}`),
      p.detail ? h("p", {}, p.detail) : null,
      p.findings.length ? h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("finding_file")), h("th", { scope: "col" }, t("preflight_fix")))),
        h("tbody", {}, p.findings.map((f) => h("tr", { "data-code": f.code }, h("td", {}, h("code", {}, f.path)), h("td", {}, f.detail)))))
        : null));
  }
  return parts;
}

function actions(image, editing, shared) {
  const box = h("section", { id: "actions" });
  const buttons = h("div", { class: "buttons" },
    h("button", { type: "button", id: "modify", onclick: () => box.replaceChildren(buttons, editForm(image)) }, t("modify")),
    h("button", { type: "button", id: "share", onclick: () => shareDialog([image.id], shared) }, t("share")),
    h("button", { type: "button", id: "delete", onclick: () => deleteImages([image.id], outcome, (results) => {
      if (results?.[0]?.outcome === "deleted") location.hash = "#/images?tab=private";
    }) }, t("delete")));
  const outcome = h("div", { id: "outcome" });
  box.append(buttons, outcome);
  if (editing) box.append(editForm(image));
  return box;
}

/** 修改: name and description; the catalog's refusal is shown next to its field. */
function editForm(image) {
  const field = (name, control) => {
    const message = h("p", { id: `${name}-error`, class: "error", role: "alert", hidden: true });
    control.setAttribute("aria-describedby", message.id);
    return [h("label", { for: control.id }, t(name)), control, message];
  };
  const name = h("input", { id: "edit-name", name: "name", value: image.name, required: true });
  const description = h("textarea", { id: "edit-description", name: "description", rows: "3" }, image.description);
  const form = h("form", { id: "edit", class: "edit", novalidate: true }, field("name", name), field("description", description),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll(".error").forEach((e) => { e.hidden = true; e.textContent = ""; });
    try {
      await api("PATCH", `/v1/images/${image.id}`, { name: name.value, description: description.value });
      location.replace(`#/images/${image.id}`);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      const shown = ["name", "description"].filter((key) => {
        const message = error.forField?.(key);
        if (message) Object.assign(form.querySelector(`#${key}-error`), { textContent: message, hidden: false });
        return Boolean(message);
      });
      if (!shown.length) form.append(note(error.message, "error"));
    }
  });
  return form;
}
