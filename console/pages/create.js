// 创建私有镜像: name, description and the host picker. Every host is listed; a running one
// is shown but cannot be chosen, with the guide's words (请先关机). Once accepted the page
// moves to the new image's detail, which follows it while it is 创建中.
import { api } from "../lib/api.js";
import { h, note } from "../lib/dom.js";
import { t } from "../lib/session.js";

export function render(main) {
  const hosts = h("div", { id: "hosts" }, t("loading"));
  const name = h("input", { id: "c-name", name: "name", required: true, maxlength: "128" });
  const description = h("textarea", { id: "c-description", name: "description", rows: "2" });
  const nameError = h("p", { id: "c-name-error", class: "error", role: "alert", hidden: true });
  const formError = h("div", { id: "c-error" });
  name.setAttribute("aria-describedby", nameError.id);
  const form = h("form", { id: "create-form", class: "edit", novalidate: true },
    h("label", { for: "c-name" }, t("name")), name, nameError,
    h("label", { for: "c-description" }, t("description")), description,
    h("fieldset", {}, h("legend", {}, t("pick_host")), h("p", { class: "hint" }, t("create_rule")), hosts),
    h("label", { class: "inline" }, h("input", { type: "checkbox", id: "c-strict", name: "strict" }), t("strict")),
    formError,
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("confirm")), h("a", { href: "#/images", class: "button" }, t("cancel"))));
  main.append(h("p", {}, h("a", { href: "#/images" }, `← ${t("back")}`)), h("h1", {}, t("create_title")), form);
  loadHosts(hosts).catch((e) => hosts.replaceChildren(note(e.message, "error")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    nameError.hidden = true;
    formError.replaceChildren();
    const host = form.querySelector("input[name=host]:checked");
    if (!host) return formError.replaceChildren(note(t("pick_host_first"), "error"));
    try {
      const created = await api("POST", "/v1/images", {
        host_id: host.value, name: name.value, description: description.value,
        strict_preflight: form.querySelector("#c-strict").checked,
      });
      location.hash = `#/images/${created.image_id}`;
    } catch (error) {
      const message = error.forField?.("name");
      if (message) Object.assign(nameError, { textContent: message, hidden: false });
      else formError.replaceChildren(note(error.message, "error"));
    }
  });
}

async function loadHosts(box) {
  const page = await api("GET", "/v1/hosts?limit=200");
  if (!page.items.length) return box.replaceChildren(note(t("no_hosts")));
  box.replaceChildren(h("table", {},
    h("thead", {}, h("tr", {}, ["", "host", "host_state", "os", "memory", "disk"].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
    h("tbody", {}, page.items.map((host) => {
      const id = `host-${host.host_id}`;
      return h("tr", { class: host.capturable ? "" : "disabled", "data-host": host.name },
        h("td", {}, h("input", { type: "radio", name: "host", id, value: host.host_id, disabled: !host.capturable,
          "aria-describedby": host.capturable ? null : `${id}-why` })),
        h("td", {}, h("label", { for: id }, host.name)),
        h("td", {}, host.state_label, host.capturable ? null : h("span", { id: `${id}-why`, class: "why" }, `（${t("stop_first")}）`)),
        h("td", {}, host.os_label), h("td", {}, host.memory_mb), h("td", {}, host.system_disk_gb));
    }))));
}
