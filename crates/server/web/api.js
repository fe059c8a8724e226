// The HTTP API, as promises. Failures reject with an ApiError carrying the
// server's JSON body ({code, message, message_en}) and the HTTP status.

import { errorText, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.code = body?.code ?? (status === 0 ? 'network' : 'unknown');
  }

  /** The message to show, in the current UI language. */
  text() {
    if (this.status === 0) return t('error.network');
    return errorText(this.body);
  }
}

let onUnauthenticated = () => {};

/** Called when a request made while signed in gets 401: the session ended. */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

async function request(method, path, body, { quiet401 = false } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api${path}`, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quiet401 && err.code === 'unauthenticated') onUnauthenticated();
    throw err;
  }
  return data;
}

const org = (id) => `/orgs/${encodeURIComponent(id)}`;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  login: (login, password) => request('POST', '/session', { login, password }, { quiet401: true }),
  logout: () => request('DELETE', '/session', undefined, { quiet401: true }),
  me: () => request('GET', '/me', undefined, { quiet401: true }),
  changePassword: (current, next) => request('POST', '/me/password', { current, new: next }),
  demoAccounts: () => request('GET', '/dev/demo-accounts', undefined, { quiet401: true }),

  org: (o) => request('GET', org(o)),
  setChats: (o, enabled) => request('PUT', `${org(o)}/modules/chats`, { enabled }),
  classes: (o) => request('GET', `${org(o)}/classes`),
  createClass: (o, name) => request('POST', `${org(o)}/classes`, { name }),
  klass: (o, c) => request('GET', `${org(o)}/classes/${encodeURIComponent(c)}`),
  editClass: (o, c, patch) => request('PATCH', `${org(o)}/classes/${encodeURIComponent(c)}`, patch),
  passwordSlip: (o, c) => request('POST', `${org(o)}/classes/${encodeURIComponent(c)}/password-slip`),
  people: (o, params = {}) => request('GET', `${org(o)}/people${query(params)}`),
  person: (o, p) => request('GET', `${org(o)}/people/${encodeURIComponent(p)}`),
  createPerson: (o, form) => request('POST', `${org(o)}/people`, form),
  editPerson: (o, p, form) => request('PATCH', `${org(o)}/people/${encodeURIComponent(p)}`, form),
  moveStudent: (o, p, classId) =>
    request('POST', `${org(o)}/people/${encodeURIComponent(p)}/class`, { class_id: classId }),
  addGuardianship: (o, guardianId, studentId) =>
    request('PUT', `${org(o)}/guardianships`, { guardian_id: guardianId, student_id: studentId }),
  removeGuardianship: (o, guardianId, studentId) =>
    request('DELETE', `${org(o)}/guardianships`, { guardian_id: guardianId, student_id: studentId }),
  subjects: (o) => request('GET', `${org(o)}/subjects`),
};
