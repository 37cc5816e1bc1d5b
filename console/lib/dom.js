// Building the page without innerHTML: every API string becomes a text node, never markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value" || key === "checked" || key === "disabled") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A message line (role=status, or role=alert for errors) that tests and screen readers read. */
export function note(text, kind = "info") {
  return h("p", { class: kind, role: kind === "error" ? "alert" : "status" }, text);
}

/** A modal <dialog> (keyboard: Esc closes it, focus stays inside) removed when it closes. */
export function modal(title, ...body) {
  const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, h("h2", { id: "dialog-title" }, title), ...body);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Yes or no in a modal: resolves true for the confirming button only. */
export function confirmDialog(title, text, yes, no) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = modal(
      title,
      h("p", {}, text),
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "primary", onclick: () => { answer = true; dialog.close(); } }, yes),
        h("button", { type: "button", onclick: () => dialog.close() }, no)),
    );
    dialog.addEventListener("close", () => resolve(answer));
  });
}

export function formatTime(iso, lang) {
  return iso ? new Date(iso).toLocaleString(lang, { hour12: false }) : "--";
}
