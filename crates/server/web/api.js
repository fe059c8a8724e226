// @ts-check
// The HTTP API, as promises. Failures reject with an ApiError carrying the
// server's JSON body ({code, message, message_en}) and the HTTP status.

import { errorText, t } from './i18n.js';

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the network failed
   * @param {import('./types.js').ApiErrorBody | null} body
   */
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

/**
 * Called when a request made while signed in gets 401: the session ended.
 * @param {() => void} fn
 */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON
 * @param {{ quiet401?: boolean }} [opts]
 * @returns {Promise<any>} the parsed JSON body (null for none); rejects with an ApiError
 */
async function request(method, path, body, { quiet401 = false } = {}) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
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
const chat = (id) => `/messenger/chats/${encodeURIComponent(id)}`;
const child = (id) => `/family/children/${encodeURIComponent(id)}`;

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
  loginByPhone: (proof) => request('POST', '/session/by-phone', { proof }, { quiet401: true }),
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
  dmPolicy: (o) => request('GET', `${org(o)}/dm-policy`),
  setDmPolicy: (o, changes) => request('PUT', `${org(o)}/dm-policy`, changes),

  // Parta ID: proving a phone with an SMS code or the account password.
  phoneStatus: (phone) => request('POST', '/identity/phone', { phone }, { quiet401: true }),
  sendCode: (phone) => request('POST', '/identity/codes', { phone }, { quiet401: true }),
  proveByCode: (phone, code) => request('POST', '/identity/proofs', { phone, code }, { quiet401: true }),
  proveByPassword: (phone, password) => request('POST', '/identity/proofs', { phone, password }, { quiet401: true }),
  /** Demo mode only: the SMS the development sender "sent", newest first. */
  smsOutbox: () => request('GET', '/dev/sms-outbox', undefined, { quiet401: true }),

  // The "Чаты" window of the school portal.
  chats: (o) => request('GET', `/chats/${encodeURIComponent(o)}`),
  /** `how`: the names of a new Parta ID, `{ join: true }` ("it's me"), or the
   * names plus `{ free_from_child: true, child_consent: true }`. */
  link: (o, proof, how) => request('POST', `/chats/${encodeURIComponent(o)}/link`, { proof, ...how }),
  unlink: (o) => request('DELETE', `/chats/${encodeURIComponent(o)}/link`),
  messengerToken: (o) => request('POST', `/chats/${encodeURIComponent(o)}/messenger-token`),

  // Parta Мессенджер: its own session (cookie) and the account settings.
  messengerSignIn: (form) => request('POST', '/messenger/session', form, { quiet401: true }),
  messengerRegister: (form) => request('POST', '/messenger/register', form, { quiet401: true }),
  messengerMe: () => request('GET', '/messenger/me', undefined, { quiet401: true }),
  messengerSignOut: ({ portal = false } = {}) =>
    request('DELETE', `/messenger/session${portal ? '?portal=true' : ''}`, undefined, { quiet401: true }),
  renameMessengerAccount: (about) => request('PUT', '/messenger/me/name', about),
  messengerSessions: () => request('GET', '/messenger/sessions'),
  pushKey: () => request('GET', '/push/key'),
  subscribePush: (subscription) => request('POST', '/push/subscriptions', subscription),
  unsubscribePush: (endpoint) => request('DELETE', '/push/subscriptions', { endpoint }),
  pushSettings: () => request('GET', '/push/settings'),
  savePushSettings: (settings) => request('PUT', '/push/settings', settings),
  endMessengerSession: (id) => request('DELETE', `/messenger/sessions/${encodeURIComponent(id)}`),
  setMessengerPassword: (current, next) =>
    request('PUT', '/messenger/me/password', { current: current || null, new: next }),
  changeMessengerPhone: (proof) => request('PUT', '/messenger/me/phone', { proof }),
  deleteMessengerAccount: () => request('DELETE', '/messenger/me'),

  // «Дети»: child profiles a guardian makes and manages.
  children: () => request('GET', '/family/children'),
  childConsent: () => request('GET', '/family/consent'),
  createChildProfile: (c) => request('POST', `${child(c)}/profile`, { consent: true }),
  deleteChildProfile: (c) => request('DELETE', `${child(c)}/profile`),
  childSignInCode: (c) => request('POST', `${child(c)}/sign-in-codes`),
  setChildLogin: (c, login, password) => request('PUT', `${child(c)}/login`, { login, password }),
  moveChildToPhone: (c, proof) => request('PUT', `${child(c)}/phone`, { proof }),
  childSessions: (c) => request('GET', `${child(c)}/sessions`),
  endChildSession: (c, s) => request('DELETE', `${child(c)}/sessions/${encodeURIComponent(s)}`),
  sharedPartaIds: (o) => request('GET', `${org(o)}/shared-parta-ids`),

  // Parta Мессенджер: chats and messages (docs/protocol.md). Live events come
  // over the WebSocket (chat/socket.js); these are the HTTP half.
  messengerChats: () => request('GET', '/messenger/chats'),
  messengerChat: (c) => request('GET', `${chat(c)}`),
  /** A chat admin's settings: {announcement_only?, description?}. */
  updateChat: (c, patch) => request('PATCH', `${chat(c)}`, patch),
  chatNotifications: (c) => request('GET', `${chat(c)}/notifications`),
  setChatNotifications: (c, change) => request('PUT', `${chat(c)}/notifications`, change),
  /** {quiet, until, until_local}: the chat's school is in its quiet hours now. */
  chatQuiet: (c) => request('GET', `${chat(c)}/quiet`),
  quietHours: (o) => request('GET', `${org(o)}/quiet-hours`),
  setQuietHours: (o, form) => request('PUT', `${org(o)}/quiet-hours`, form),
  messages: (c, params = {}) => request('GET', `${chat(c)}/messages${query(params)}`),
  members: (c) => request('GET', `${chat(c)}/members`),
  pins: (c) => request('GET', `${chat(c)}/pins`),
  postMessage: (c, body) => request('POST', `${chat(c)}/messages`, body),
  editMessage: (c, id, text) => request('PATCH', `${chat(c)}/messages/${encodeURIComponent(id)}`, { text }),
  deleteMessage: (c, id) => request('DELETE', `${chat(c)}/messages/${encodeURIComponent(id)}`),
  react: (c, id, emoji) => request('PUT', `${chat(c)}/messages/${encodeURIComponent(id)}/reactions/${encodeURIComponent(emoji)}`),
  unreact: (c, id, emoji) => request('DELETE', `${chat(c)}/messages/${encodeURIComponent(id)}/reactions/${encodeURIComponent(emoji)}`),
  pin: (c, id) => request('PUT', `${chat(c)}/messages/${encodeURIComponent(id)}/pin`),
  unpin: (c, id) => request('DELETE', `${chat(c)}/messages/${encodeURIComponent(id)}/pin`),
  markRead: (c, seq) => request('POST', `${chat(c)}/read`, { seq }),
  // Read receipts, for a chat's admins.
  receipts: (c, from) => request('GET', `${chat(c)}/receipts${query({ from })}`),
  receiptReport: (c, id) => request('GET', `${chat(c)}/messages/${encodeURIComponent(id)}/receipts`),
  remind: (c, id) => request('POST', `${chat(c)}/messages/${encodeURIComponent(id)}/remind`),
  // Polls.
  createPoll: (c, body) => request('POST', `${chat(c)}/polls`, body),
  vote: (c, id, options) => request('PUT', `${chat(c)}/messages/${encodeURIComponent(id)}/vote`, { options }),
  closePoll: (c, id) => request('POST', `${chat(c)}/messages/${encodeURIComponent(id)}/close-poll`),
  // Consent forms in parents' chats.
  createConsent: (c, body) => request('POST', `${chat(c)}/consent-forms`, body),
  consent: (c, id) => request('GET', `${chat(c)}/messages/${encodeURIComponent(id)}/consent`),
  answerConsent: (c, id, body) => request('PUT', `${chat(c)}/messages/${encodeURIComponent(id)}/consent`, body),
  consentReport: (c, id) => request('GET', `${chat(c)}/messages/${encodeURIComponent(id)}/consent/report`),
  remindConsent: (c, id) => request('POST', `${chat(c)}/messages/${encodeURIComponent(id)}/consent/remind`),
  reopenConsent: (c, id, deadline) => request('POST', `${chat(c)}/messages/${encodeURIComponent(id)}/consent/reopen`, { deadline }),
  // Scheduled messages («Отправить позже»): the author's own, until sent.
  scheduled: (c) => request('GET', `${chat(c)}/scheduled`),
  schedule: (c, body) => request('POST', `${chat(c)}/scheduled`, body),
  editScheduled: (id, body) => request('PATCH', `/messenger/scheduled/${encodeURIComponent(id)}`, body),
  cancelScheduled: (id) => request('DELETE', `/messenger/scheduled/${encodeURIComponent(id)}`),
  direct: (orgId, person) => request('POST', '/messenger/direct', { org: orgId, person }),

  // «Управление чатами»: staff manage chats and members; administrators read the audit log.
  manage: {
    options: (o) => request('GET', `${org(o)}/chats/options`),
    chats: (o, params = {}) => request('GET', `${org(o)}/chats${query(params)}`),
    chat: (o, c) => request('GET', `${org(o)}/chats/${encodeURIComponent(c)}`),
    create: (o, form) => request('POST', `${org(o)}/chats`, form),
    edit: (o, c, form) => request('PATCH', `${org(o)}/chats/${encodeURIComponent(c)}`, form),
    archive: (o, c, archived) => request(archived ? 'PUT' : 'DELETE', `${org(o)}/chats/${encodeURIComponent(c)}/archive`),
    remove: (o, c) => request('DELETE', `${org(o)}/chats/${encodeURIComponent(c)}`),
    restore: (o, c) => request('POST', `${org(o)}/chats/${encodeURIComponent(c)}/restore`),
    addMembers: (o, c, people) => request('POST', `${org(o)}/chats/${encodeURIComponent(c)}/members`, { people }),
    removeMember: (o, c, p) =>
      request('DELETE', `${org(o)}/chats/${encodeURIComponent(c)}/members/${encodeURIComponent(p)}`),
    setAdmin: (o, c, p, admin) =>
      request(admin ? 'PUT' : 'DELETE', `${org(o)}/chats/${encodeURIComponent(c)}/admins/${encodeURIComponent(p)}`),
    candidates: (o, params = {}) => request('GET', `${org(o)}/chats/candidates${query(params)}`),
    audit: (o, params = {}) => request('GET', `${org(o)}/chat-audit${query(params)}`),
    /** A link that downloads the audit log (same filters) as a CSV file. */
    auditCsvUrl: (o, params = {}) => `/api${org(o)}/chat-audit.csv${query(params)}`,
  },
  // Safeguarding: reports from the messenger, the school's moderation queue.
  reportMessage: (c, id, form) => request('POST', `${chat(c)}/messages/${encodeURIComponent(id)}/reports`, form),
  myReports: () => request('GET', '/messenger/reports'),
  blockState: (c) => request('GET', `${chat(c)}/block`),
  setBlocked: (c, blocked) => request(blocked ? 'PUT' : 'DELETE', `${chat(c)}/block`),
  oversightNotice: (c) => request('GET', `${chat(c)}/oversight`),
  dataRights: {
    mine: () => request('GET', '/messenger/exports'),
    requestMine: () => request('POST', '/messenger/exports'),
    myExport: (id) => request('GET', `/messenger/exports/${encodeURIComponent(id)}`),
    exports: (o) => request('GET', `${org(o)}/exports`),
    orgExport: (o, id) => request('GET', `${org(o)}/exports/${encodeURIComponent(id)}`),
    requestFor: (o, p, reason) => request('POST', `${org(o)}/people/${encodeURIComponent(p)}/exports`, { reason }),
    formerMembers: (o) => request('GET', `${org(o)}/former-members`),
    erasurePlan: (o, p) => request('GET', `${org(o)}/people/${encodeURIComponent(p)}/erasure`),
    erase: (o, p, reason) => request('POST', `${org(o)}/people/${encodeURIComponent(p)}/erasure`, { reason, confirm: true }),
    retention: (o) => request('GET', `${org(o)}/retention`),
    setRetention: (o, years) => request('PUT', `${org(o)}/retention`, { years }),
    retentionPreview: (o, years) => request('GET', `${org(o)}/retention/preview${query({ years })}`),
    audit: (o) => request('GET', `${org(o)}/data-rights-audit`),
  },
  safeguarding: {
    reports: (o, decided = false) => request('GET', `${org(o)}/reports${query({ decided: decided || null })}`),
    decide: (o, r, form) => request('POST', `${org(o)}/reports/${encodeURIComponent(r)}/decision`, form),
    staff: (o) => request('GET', `${org(o)}/safeguarding-staff`),
    setStaff: (o, p, named) => request(named ? 'PUT' : 'DELETE', `${org(o)}/safeguarding-staff/${encodeURIComponent(p)}`),
    oversee: (o, c, reason) => request('POST', `${org(o)}/chats/${encodeURIComponent(c)}/oversight`, { reason }),
    oversightLog: (o) => request('GET', `${org(o)}/oversight`),
  },
};
