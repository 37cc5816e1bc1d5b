// Sign-in for the local stack: the demo accounts the gateway serves (/demo-accounts.json).
import { h, note } from "../lib/dom.js";
import { signIn, t } from "../lib/session.js";

export function render(main, _params, start) {
  const list = h("ul", { class: "accounts" });
  main.append(h("h1", {}, t("signin_title")), h("p", {}, t("signin_help")), list);
  fetch("/demo-accounts.json")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then(({ accounts }) => {
      for (const account of accounts) {
        const label = `${t("signin")}: ${account.name}${account.admin ? " (admin)" : ""}`;
        list.append(h("li", {}, h("button", {
          type: "button",
          onclick: () => { signIn(account.token); history.replaceState(null, "", "#/images"); start(); },
        }, label)));
      }
    })
    .catch((error) => main.append(note(`${t("failed_load")}${error.message}`, "error")));
}
