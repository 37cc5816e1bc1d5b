// 通知: the account's inbox (unread first), each marked read on request.
import { api } from "../lib/api.js";
import { formatTime, h, note } from "../lib/dom.js";
import { session, t } from "../lib/session.js";

export function render(main) {
  const list = h("div", { id: "notices" }, t("loading"));
  main.append(h("h1", {}, t("notices")), list);
  const load = async () => {
    const notices = await api("GET", "/v1/notices?limit=100");
    list.replaceChildren(notices.length
      ? h("ul", { class: "notices" }, notices.map((n) => h("li", { class: n.read ? "read" : "unread" },
        h("span", { class: "state" }, n.read ? t("read") : t("unread")), " ",
        h("time", { datetime: n.updated_at }, formatTime(n.updated_at, session.lang)), " ",
        h("span", {}, n.text), " ",
        n.read ? null : h("button", { type: "button", class: "link", onclick: async () => {
          await api("POST", `/v1/notices/${n.id}/read`);
          await load();
        } }, t("mark_read")))))
      : note(t("no_notices")));
  };
  load().catch((e) => list.replaceChildren(note(e.message, "error")));
}
