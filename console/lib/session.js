// Who is signed in and in which language: the token lives in sessionStorage only (never in a
// URL a server logs: #token= is read from the fragment and removed at once).
import { TEXT } from "../i18n.js";

export const session = {
  token: sessionStorage.getItem("ims.token"),
  lang: localStorage.getItem("ims.lang") || "zh-CN",
};

export function t(key, ...args) {
  const value = TEXT[session.lang][key] ?? TEXT["zh-CN"][key] ?? key;
  return typeof value === "function" ? value(...args) : value;
}

export function signIn(token) {
  session.token = token;
  sessionStorage.setItem("ims.token", token);
}

export function signOut() {
  session.token = null;
  sessionStorage.removeItem("ims.token");
}

export function setLanguage(lang) {
  session.lang = lang;
  localStorage.setItem("ims.lang", lang);
}

/** The account's name from the token's claims (shown only; the services verify the token). */
export function accountName() {
  try {
    const claims = JSON.parse(atob(session.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return claims.name || claims.account_name || claims.sub || "";
  } catch {
    return "";
  }
}

/** A status label: the catalog answers zh-CN labels only, so English ones are the console's. */
export function statusLabel(image) {
  return session.lang === "en" && TEXT.en[`st_${image.status}`] ? TEXT.en[`st_${image.status}`] : image.status_label;
}
