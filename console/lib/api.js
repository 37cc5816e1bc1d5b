// The four services' APIs through the gateway (one origin). Errors are the services'
// problem documents: ApiError carries their detail (in the chosen language), code and errors.
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code;
    this.errors = problem?.errors || [];
  }

  /** The message for one field: a domain refusal named for it, or a validation error on it. */
  forField(field) {
    if (this.code === `invalid_${field}`) return this.message;
    const hit = this.errors.find((e) => String(e.field).split(".").pop() === field);
    return hit ? hit.message : null;
  }
}

export function headers() {
  return { Authorization: `Bearer ${session.token}`, "Accept-Language": session.lang };
}

export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { ...headers(), ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = response.status === 204 ? "" : await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
