// @ts-check
// What the messenger tab knows: the chat list, the loaded history of chats,
// each chat's position (the highest event `seq` applied, docs/protocol.md),
// the outbox of sends not yet acknowledged, who is typing. Events from the
// socket are applied here in `seq` order; a gap or `resync` reloads the chat
// over HTTP. The interface subscribes with on() and renders what changed.

import { api } from '../api.js';
import { preview, firstName } from './format.js';

/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../types.js').Frame} Frame */

const PAGE = 50;
const TYPING_MS = 5000;
const TYPING_SEND_EVERY_MS = 3000;

/** The reactions a chat allows (messenger::Reaction::ALLOWED on the server). */
export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏', '👎', '🔥', '🎉', '✅'];

/** A UUID for a send; crypto.randomUUID needs a secure context, a school's LAN address may not be one. */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const STATIC_FIELDS = ['org', 'org_name', 'kind', 'name', 'description', 'me', 'admin', 'announcement_only', 'read_only', 'members'];

function newData(messages, hasMore) {
  const d = { messages: [], byId: new Map(), hasMore, loadingOlder: false, pins: null, error: null };
  for (const m of messages) insertMessage(d, m);
  return d;
}

function insertMessage(d, m) {
  const old = d.byId.get(m.id);
  if (old) {
    Object.assign(old, m);
    return old;
  }
  d.byId.set(m.id, m);
  const last = d.messages[d.messages.length - 1];
  d.messages.push(m);
  if (last && last.seq > m.seq) d.messages.sort((a, b) => a.seq - b.seq);
  return m;
}

export class ChatStore {
  constructor({ accountId }) {
    this.accountId = accountId;
    /** id → ChatSummary, kept current by events. */
    this.chats = new Map();
    this.listLoaded = false;
    this.listError = null;
    /** id → the highest event seq applied. */
    this.pos = new Map();
    /** id → loaded history: {messages, byId, hasMore, loadingOlder, pins, error}. */
    this.data = new Map();
    /** id → frames held while the chat is (re)loaded over HTTP. */
    this.buffer = new Map();
    this.loads = new Map();
    this.typing = new Map();
    this.typingSentAt = new Map();
    /** chat → a read position the socket could not send yet. */
    this.unsentReads = new Map();
    this.outbox = this.readOutbox();
    /** When messages held back for sending too often go again (ms; 0: none held). */
    this.resendAt = 0;
    this.resendTimer = null;
    this.listeners = new Set();
    this.socket = null;
    /**
     * (chatId, message, live) → void: someone else's new message.
     * @type {(chatId: number, message: Message, live: boolean) => void}
     */
    this.onIncoming = () => {};
    /**
     * (chatId, name) → void: the user is no longer in a chat.
     * @type {(chatId: number, name: string) => void}
     */
    this.onRemoved = () => {};
    /**
     * (frame) → void: an `error` frame not about a send.
     * @type {(frame: Frame) => void}
     */
    this.onErrorFrame = () => {};
    /**
     * `chat:message` of the consent forms whose own rows are being loaded.
     * @type {Set<string>}
     */
    this.consentLoading = new Set();
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(change) {
    for (const fn of this.listeners) fn(change);
  }

  // ------------------------------------------------------------ the list

  /** (Re)loads the chat list; calls made while one is running make it run once more. */
  loadList() {
    if (this.listLoading) {
      this.listAgain = true;
      return this.listLoading;
    }
    this.listLoading = (async () => {
      do {
        this.listAgain = false;
        try {
          this.mergeList(await api.messengerChats());
          this.listError = null;
        } catch (e) {
          this.listError = e;
          this.emit({ kind: 'list' });
          throw e;
        }
      } while (this.listAgain);
    })().finally(() => {
      this.listLoading = null;
    });
    return this.listLoading;
  }

  mergeList(list) {
    const seen = new Set();
    for (const s of list) {
      seen.add(s.id);
      this.mergeSummary(s);
    }
    for (const id of [...this.chats.keys()]) {
      if (!seen.has(id)) this.removeChat(id);
    }
    this.listLoaded = true;
    this.emit({ kind: 'list' });
  }

  /**
   * Takes a summary from the server. When it is behind or ahead of what this
   * tab applied, only the fields events do not carry are taken: the events in
   * between are on their way (live or replayed) and would count twice.
   */
  mergeSummary(s) {
    const cur = this.chats.get(s.id);
    const pos = this.pos.get(s.id);
    if (!cur || pos === undefined) {
      this.chats.set(s.id, { ...s });
      this.pos.set(s.id, s.last_seq);
      return this.chats.get(s.id);
    }
    if (s.last_seq === pos) {
      // The server's last message does not say whose it is; an event did.
      const author = cur.last_message && s.last_message?.id === cur.last_message.id ? cur.last_message.author : undefined;
      Object.assign(cur, s);
      if (author !== undefined && cur.last_message) cur.last_message = { ...cur.last_message, author };
    } else {
      for (const k of STATIC_FIELDS) cur[k] = s[k];
      cur.others_read_seq = Math.max(cur.others_read_seq || 0, s.others_read_seq || 0);
    }
    return cur;
  }

  removeChat(id) {
    const s = this.chats.get(id);
    this.chats.delete(id);
    this.pos.delete(id);
    this.data.delete(id);
    this.typing.delete(id);
    this.outbox = this.outbox.filter((it) => it.chat !== id);
    this.saveOutbox();
    if (s) this.onRemoved(id, s.name);
  }

  /** Chats, most recent first. */
  sorted() {
    const at = (s) => Math.max(s.last_message?.at || 0, this.outboxAt(s.id));
    return [...this.chats.values()].sort((a, b) => at(b) - at(a) || b.last_seq - a.last_seq || a.name.localeCompare(b.name, 'ru'));
  }

  outboxAt(id) {
    let at = 0;
    for (const it of this.outbox) if (it.chat === id) at = Math.max(at, it.created_at);
    return at;
  }

  unreadTotal() {
    let n = 0;
    for (const s of this.chats.values()) n += s.unread || 0;
    return n;
  }

  positions() {
    return [...this.pos].map(([chat, seq]) => ({ chat, seq }));
  }

  // ------------------------------------------------------------ frames

  handleFrame(f) {
    switch (f.type) {
      case 'ready': {
        const ids = new Set(f.chats || []);
        const same = ids.size === this.chats.size && [...this.chats.keys()].every((id) => ids.has(id));
        // After a reconnect a `chats_changed` may have been missed (a chat
        // turned announcement-only, renamed): the list comes again.
        if (!same || this.readyBefore) this.loadList().catch(() => {});
        this.readyBefore = true;
        this.flushOutbox();
        this.flushReads();
        return;
      }
      case 'event':
        this.applyFrame(f);
        return;
      case 'ack':
        this.onAck(f);
        return;
      case 'error':
        this.onError(f);
        return;
      case 'typing':
        this.onTyping(f);
        return;
      case 'read':
        this.onRead(f);
        return;
      case 'resync':
        if (this.chats.has(f.chat)) this.resync(f.chat);
        return;
      case 'chats_changed':
        this.loadList().catch(() => {});
        return;
      case 'reminder':
        this.emit({ kind: 'reminder', frame: f });
        return;
      default:
    }
  }

  applyFrame(f, live = true) {
    const id = f.chat;
    if (!this.chats.has(id)) {
      // A chat this tab does not know yet: the list says where it starts.
      this.loadList().catch(() => {});
      return;
    }
    const held = this.buffer.get(id);
    if (held) {
      held.push(f);
      return;
    }
    const pos = this.pos.get(id) ?? 0;
    if (f.seq <= pos) return;
    if (f.seq > pos + 1) {
      this.resync(id, [f]);
      return;
    }
    this.pos.set(id, f.seq);
    this.applyEvent(id, f, live);
  }

  applyEvent(id, f, live) {
    const s = this.chats.get(id);
    const d = this.data.get(id);
    const e = f.event;
    s.last_seq = Math.max(s.last_seq || 0, f.seq);
    const eachCopy = (msgId, fn) => {
      const m = d?.byId.get(msgId);
      if (m) fn(m);
      for (const p of d?.pins || []) if (p.id === msgId && p !== m) fn(p);
    };
    switch (e.kind) {
      case 'message': {
        const m = e.message;
        if (d) insertMessage(d, m);
        if (m.client_id) this.dropOutbox(m.client_id);
        else if (m.author.person === s.me) this.matchOutbox(id, m);
        s.last_message = {
          id: m.id, author_name: m.author.name, author: m.author.person, preview: preview(m.text), at: m.created_at, deleted: false,
          call: m.call,
        };
        const fromOther = m.author.person !== s.me;
        if (fromOther) {
          if (f.seq > (s.last_read_seq || 0)) s.unread = (s.unread || 0) + 1;
          this.typing.get(id)?.delete(m.author.person);
          this.onIncoming(id, m, live);
        }
        break;
      }
      case 'edited':
        eachCopy(e.message_id, (m) => {
          m.text = e.text;
          m.edited_at = e.edited_at;
        });
        if (s.last_message?.id === e.message_id) s.last_message = { ...s.last_message, preview: preview(e.text) };
        for (const m of d?.messages || []) {
          if (m.reply_to?.id === e.message_id) m.reply_to = { ...m.reply_to, preview: preview(e.text) };
        }
        break;
      case 'hidden':
      case 'deleted': {
        const m = d?.byId.get(e.message_id);
        if (m && !m.deleted && m.author.person !== s.me && m.seq > (s.last_read_seq || 0) && s.unread > 0) s.unread -= 1;
        else if (!m && s.unread > 0) this.refreshSummarySoon(id);
        if (m) Object.assign(m, { deleted: true, text: '', reactions: [], pinned: false, mentions: [] });
        // The author learns the reason from the history on the next load.
        if (m && e.kind === 'hidden') m.hidden = m.hidden || {};
        if (d?.pins) d.pins = d.pins.filter((p) => p.id !== e.message_id);
        if (s.last_message?.id === e.message_id) s.last_message = { ...s.last_message, deleted: true, preview: '' };
        for (const x of d?.messages || []) {
          if (x.reply_to?.id === e.message_id) x.reply_to = { ...x.reply_to, deleted: true, preview: '' };
        }
        break;
      }
      case 'reaction_added':
      case 'reaction_removed':
        eachCopy(e.message_id, (m) => {
          const list = (m.reactions || []).map((r) => ({ emoji: r.emoji, people: [...r.people] }));
          let r = list.find((x) => x.emoji === e.emoji);
          if (e.kind === 'reaction_added') {
            if (!r) list.push(r = { emoji: e.emoji, people: [] });
            if (!r.people.includes(e.person)) r.people.push(e.person);
          } else if (r) {
            r.people = r.people.filter((p) => p !== e.person);
          }
          m.reactions = list.filter((x) => x.people.length);
        });
        break;
      case 'pinned': {
        const m = d?.byId.get(e.message_id);
        if (m) m.pinned = true;
        if (d?.pins) {
          if (m) d.pins = [m, ...d.pins.filter((p) => p.id !== m.id)];
          else this.loadPins(id);
        }
        break;
      }
      case 'unpinned': {
        const m = d?.byId.get(e.message_id);
        if (m) m.pinned = false;
        if (d?.pins) d.pins = d.pins.filter((p) => p.id !== e.message_id);
        break;
      }
      case 'poll':
        // An event is everyone's: the viewer's own choice stays as it was.
        eachCopy(e.message_id, (m) => {
          m.poll = { ...e.poll, mine: m.poll?.mine };
        });
        break;
      case 'consent': {
        // An event names no family's answer: the viewer's own rows (a
        // co-guardian may have answered) come from the server again.
        let mine = false;
        eachCopy(e.message_id, (m) => {
          mine ||= Boolean(m.consent?.children?.length);
          m.consent = { ...e.consent, children: m.consent?.children };
        });
        if (mine) this.refreshConsent(id, e.message_id);
        break;
      }
      default:
        // A kind this version does not know: the position still moves on.
    }
    this.emit({ kind: 'chat', chat: id, event: e });
  }

  // ------------------------------------------------------------ loading

  /**
   * Loads (or reloads) the newest page of a chat. Frames for it that come in
   * meanwhile are held and applied after, from the page's `last_seq`.
   */
  load(id, { withSummary = false, held = [] } = {}) {
    if (this.loads.has(id)) {
      this.buffer.get(id)?.push(...held);
      return this.loads.get(id);
    }
    this.buffer.set(id, [...held]);
    const run = (async () => {
      let frames;
      try {
        const sum = withSummary ? await api.messengerChat(id) : null;
        const page = await api.messages(id, { limit: PAGE });
        const old = this.data.get(id);
        const d = newData(page.messages, page.has_more);
        d.pins = old?.pins ?? null;
        this.data.set(id, d);
        const s = this.chats.get(id);
        if (!s) return;
        if (sum) Object.assign(s, sum);
        this.pos.set(id, page.last_seq);
        s.last_seq = Math.max(s.last_seq || 0, page.last_seq);
        this.recountUnread(id);
        const last = d.messages[d.messages.length - 1];
        if (last) {
          s.last_message = {
            id: last.id, author_name: last.author.name, author: last.author.person, preview: preview(last.text), at: last.created_at, deleted: last.deleted,
            call: last.call,
          };
        }
        const sent = new Set(page.messages.map((m) => m.client_id).filter(Boolean));
        if (sent.size) {
          this.outbox = this.outbox.filter((it) => !sent.has(it.client_id));
          this.saveOutbox();
        }
        if (d.pins) this.loadPins(id);
      } catch (e) {
        if (e.status === 404) {
          this.buffer.delete(id);
          this.removeChat(id);
          this.emit({ kind: 'list' });
          return;
        }
        const d = this.data.get(id) || newData([], false);
        d.error = e;
        if (!this.data.has(id)) d.failed = true;
        this.data.set(id, d);
      } finally {
        frames = this.buffer.get(id) || [];
        this.buffer.delete(id);
        this.loads.delete(id);
      }
      frames.sort((a, b) => a.seq - b.seq);
      for (const f of frames) this.applyFrame(f);
      this.emit({ kind: 'chat', chat: id, loaded: true });
      this.emit({ kind: 'list' });
    })();
    this.loads.set(id, run);
    return run;
  }

  /**
   * Fetches a chat's summary again: the member count and the settings are
   * pushed to nobody when someone else joins or leaves, so opening a chat
   * refreshes them.
   */
  async refreshSummary(id) {
    try {
      const sum = await api.messengerChat(id);
      if (!this.chats.has(id)) return;
      this.mergeSummary(sum);
      this.emit({ kind: 'list' });
    } catch (e) {
      if (e.status === 404) {
        this.removeChat(id);
        this.emit({ kind: 'list' });
      }
    }
  }

  /** Makes sure a chat's history is loaded (the first page). */
  ensureLoaded(id) {
    const d = this.data.get(id);
    if (d && !d.failed) return Promise.resolve();
    if (d?.failed) this.data.delete(id);
    return this.load(id);
  }

  /** A gap or `resync`: the history (if loaded) and the summary come again over HTTP. */
  resync(id, held = []) {
    if (this.data.has(id)) return this.load(id, { withSummary: true, held });
    if (this.loads.has(id)) {
      this.buffer.get(id)?.push(...held);
      return this.loads.get(id);
    }
    this.buffer.set(id, [...held]);
    const run = (async () => {
      try {
        const sum = await api.messengerChat(id);
        const s = this.chats.get(id);
        if (s) {
          Object.assign(s, sum);
          this.pos.set(id, sum.last_seq);
        }
      } catch (e) {
        if (e.status === 404) {
          this.buffer.delete(id);
          this.removeChat(id);
        }
      } finally {
        const frames = (this.buffer.get(id) || []).sort((a, b) => a.seq - b.seq);
        this.buffer.delete(id);
        this.loads.delete(id);
        for (const f of frames) this.applyFrame(f);
        this.emit({ kind: 'list' });
      }
    })();
    this.loads.set(id, run);
    return run;
  }

  refreshSummarySoon(id) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.resync(id), 300);
  }

  /** Unread from the loaded page, when the page reaches back to the read position. */
  recountUnread(id) {
    const s = this.chats.get(id);
    const d = this.data.get(id);
    if (!s || !d) return;
    const read = s.last_read_seq || 0;
    const covers = !d.hasMore || (d.messages[0] && d.messages[0].seq <= read + 1);
    if (!covers) return;
    s.unread = d.messages.filter((m) => m.seq > read && !m.deleted && m.author.person !== s.me).length;
  }

  async loadOlder(id) {
    const d = this.data.get(id);
    if (!d || !d.hasMore || d.loadingOlder || !d.messages.length) return false;
    d.loadingOlder = true;
    this.emit({ kind: 'chat', chat: id });
    try {
      const page = await api.messages(id, { before: d.messages[0].seq, limit: PAGE });
      const cur = this.data.get(id);
      if (cur !== d) return false;
      for (const m of page.messages) {
        if (!d.byId.has(m.id)) insertMessage(d, m);
      }
      d.hasMore = page.has_more && page.messages.length > 0;
      return page.messages.length > 0;
    } catch (e) {
      d.error = e;
      return false;
    } finally {
      d.loadingOlder = false;
      this.emit({ kind: 'chat', chat: id, older: true });
    }
  }

  async loadPins(id) {
    try {
      const list = await api.pins(id);
      const d = this.data.get(id);
      if (!d) return;
      d.pins = list.map((m) => d.byId.get(m.id) || m);
      this.emit({ kind: 'chat', chat: id });
    } catch {
      // The pinned bar stays as it was.
    }
  }

  // ------------------------------------------------------------ sending

  readOutbox() {
    try {
      const raw = JSON.parse(localStorage.getItem(this.outboxKey()) || '[]');
      return Array.isArray(raw) ? raw.map((it) => ({ ...it, state: it.state === 'failed' ? 'failed' : 'sending' })) : [];
    } catch {
      return [];
    }
  }

  outboxKey() {
    return `parta.outbox.${this.accountId}`;
  }

  saveOutbox() {
    try {
      const keep = this.outbox.filter((it) => it.state !== 'sent');
      if (keep.length) localStorage.setItem(this.outboxKey(), JSON.stringify(keep));
      else localStorage.removeItem(this.outboxKey());
    } catch {
      // Not kept across a reload; still sent from memory.
    }
  }

  outboxOf(id) {
    return this.outbox.filter((it) => it.chat === id);
  }

  /** Posts a message: it shows at once, goes out now or as soon as the socket is back. */
  send(id, text, reply, attachments = [], mentions = [], urgent = false) {
    const item = {
      client_id: newClientId(),
      chat: id,
      text,
      attachments,
      mentions,
      urgent,
      reply_to: reply ? reply.id : null,
      reply: reply ? { id: reply.id, author_name: reply.author.name, preview: preview(reply.text), deleted: false } : null,
      created_at: Math.floor(Date.now() / 1000),
      state: 'sending',
      error: null,
    };
    this.outbox.push(item);
    this.saveOutbox();
    // While earlier messages wait, this one waits behind them: order is kept.
    if (this.resendAt) item.state = 'waiting';
    else this.trySend(item);
    // The message ends the typing; whatever comes next is announced again.
    this.typingSentAt.delete(id);
    this.emit({ kind: 'chat', chat: id, sent: item.client_id });
    this.emit({ kind: 'list' });
    return item;
  }

  trySend(item) {
    const frame = { type: 'send', chat: item.chat, client_id: item.client_id, text: item.text };
    if (item.reply_to) frame.reply_to = item.reply_to;
    if (item.attachments?.length) frame.attachments = item.attachments;
    if (item.mentions?.length) frame.mentions = item.mentions;
    if (item.urgent) frame.urgent = true;
    return this.socket?.send(frame) ?? false;
  }

  flushOutbox() {
    for (const it of this.outbox) if (it.state === 'sending') this.trySend(it);
  }

  /**
   * One's own message came as an event without its client_id (the server
   * keeps it out of events): the outbox item it most likely is stops showing
   * at once; its ack, when it comes, removes it.
   */
  matchOutbox(id, m) {
    if (this.outbox.some((it) => it.message_id === m.id)) {
      this.outbox = this.outbox.filter((it) => it.message_id !== m.id);
      this.saveOutbox();
      return;
    }
    const norm = (x) => String(x).replace(/\r\n/g, '\n').trim();
    const it = this.outbox.find((x) => x.chat === id && !x.message_id && x.state !== 'failed'
      && norm(x.text) === norm(m.text) && (x.reply_to || null) === (m.reply_to?.id ?? null));
    if (it) {
      it.message_id = m.id;
      it.seq = m.seq;
    }
  }

  dropOutbox(clientId) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((it) => it.client_id !== clientId);
    if (this.outbox.length !== before) this.saveOutbox();
  }

  onAck(f) {
    const it = this.outbox.find((x) => x.client_id === f.client_id);
    if (!it) return;
    // The message event usually comes first and takes the item out; when the
    // history came over HTTP instead, the message may be there already.
    if (this.data.get(f.chat)?.byId.has(f.message_id) || (it.message_id === f.message_id && (this.pos.get(f.chat) ?? 0) >= f.seq)) {
      this.dropOutbox(f.client_id);
    } else {
      it.state = 'sent';
      it.seq = f.seq;
      it.message_id = f.message_id;
      this.saveOutbox();
    }
    this.emit({ kind: 'chat', chat: f.chat });
  }

  onError(f) {
    const it = f.client_id && this.outbox.find((x) => x.client_id === f.client_id);
    if (!it) {
      this.onErrorFrame(f);
      return;
    }
    if (f.code === 'rate_limited') {
      this.holdBack(it, f.retry_after);
      return;
    }
    it.state = 'failed';
    it.error = { code: f.code, message: f.message, message_en: f.message_en };
    this.saveOutbox();
    this.emit({ kind: 'chat', chat: it.chat });
  }

  /**
   * The server said "too often": the message stays in the outbox, the chat
   * says so, and it goes again by itself after the wait (with every message
   * held back meanwhile, in order). Nothing is lost.
   */
  holdBack(it, seconds) {
    it.state = 'waiting';
    this.resendAt = Math.max(this.resendAt, Date.now() + Math.max(1, Number(seconds) || 1) * 1000);
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => this.resendHeld(), this.resendAt - Date.now());
    this.emit({ kind: 'chat', chat: it.chat });
  }

  resendHeld() {
    this.resendAt = 0;
    const chats = new Set();
    for (const it of this.outbox) {
      if (it.state !== 'waiting') continue;
      it.state = 'sending';
      this.trySend(it);
      chats.add(it.chat);
    }
    for (const chat of chats) this.emit({ kind: 'chat', chat });
  }

  retry(clientId) {
    const it = this.outbox.find((x) => x.client_id === clientId);
    if (!it) return;
    it.state = 'sending';
    it.error = null;
    this.saveOutbox();
    this.trySend(it);
    this.emit({ kind: 'chat', chat: it.chat });
  }

  discard(clientId) {
    const it = this.outbox.find((x) => x.client_id === clientId);
    this.dropOutbox(clientId);
    if (it) this.emit({ kind: 'chat', chat: it.chat });
  }

  // ------------------------------------------------------------ read marks and typing

  /** Everything applied in the chat is read (the user sees the newest message). */
  markRead(id) {
    const s = this.chats.get(id);
    const pos = this.pos.get(id);
    if (!s || pos === undefined || pos <= (s.last_read_seq || 0)) {
      if (s && s.unread && pos !== undefined && pos <= (s.last_read_seq || 0)) {
        s.unread = 0;
        this.emit({ kind: 'list' });
      }
      return;
    }
    s.last_read_seq = pos;
    s.unread = 0;
    // Without a connection the mark waits for the next `ready` (no HTTP
    // retries while the network is gone).
    if (!this.socket?.send({ type: 'read', chat: id, seq: pos })) this.unsentReads.set(id, pos);
    else this.unsentReads.delete(id);
    this.emit({ kind: 'list' });
  }

  flushReads() {
    for (const [chat, seq] of this.unsentReads) {
      if (this.chats.has(chat) && this.socket?.send({ type: 'read', chat, seq })) this.unsentReads.delete(chat);
    }
  }

  /** A consent form as the server answered the viewer (their children in it). */
  consentChanged(chat, id, form) {
    const d = this.data.get(chat);
    for (const m of [d?.byId.get(id), ...(d?.pins || []).filter((p) => p.id === id)]) if (m) m.consent = form;
    this.emit({ kind: 'chat', chat });
  }

  /** Loads the viewer's own rows of a consent form, once at a time. */
  async refreshConsent(chat, id) {
    const key = `${chat}:${id}`;
    if (this.consentLoading.has(key)) return;
    this.consentLoading.add(key);
    try {
      this.consentChanged(chat, id, await api.consent(chat, id));
    } catch {
      // The card shows the form without the rows; the next event tries again.
    } finally {
      this.consentLoading.delete(key);
    }
  }

  /** A poll as the viewer's own vote or close answered it (their choice in it). */
  pollChanged(chat, id, poll) {
    const d = this.data.get(chat);
    for (const m of [d?.byId.get(id), ...(d?.pins || []).filter((p) => p.id === id)]) if (m) m.poll = poll;
    this.emit({ kind: 'chat', chat });
  }

  onRead(f) {
    const s = this.chats.get(f.chat);
    if (!s) return;
    if (f.person === s.me) {
      // Read in another tab or on another device.
      if (f.seq > (s.last_read_seq || 0)) {
        s.last_read_seq = f.seq;
        if (f.seq >= (this.pos.get(f.chat) ?? s.last_seq)) s.unread = 0;
        else if (this.data.has(f.chat)) this.recountUnread(f.chat);
        else this.refreshSummarySoon(f.chat);
      }
    } else {
      s.others_read_seq = Math.max(s.others_read_seq || 0, f.seq);
    }
    this.emit({ kind: 'chat', chat: f.chat, read: true });
    this.emit({ kind: 'list' });
  }

  onTyping(f) {
    const s = this.chats.get(f.chat);
    if (!s || f.person === s.me) return;
    if (!this.typing.has(f.chat)) this.typing.set(f.chat, new Map());
    // The frame's name is "Имя Фамилия", a message's author "Фамилия Имя Отчество":
    // the first name comes from a message of theirs when one is loaded.
    const theirs = this.data.get(f.chat)?.messages.find((m) => m.author.person === f.person);
    const first = theirs ? firstName(theirs.author.name) : String(f.name || '').trim().split(/\s+/)[0];
    this.typing.get(f.chat).set(f.person, { name: first, until: Date.now() + TYPING_MS });
    this.emit({ kind: 'typing', chat: f.chat });
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.expireTyping(), TYPING_MS + 50);
  }

  expireTyping() {
    const now = Date.now();
    let next = Infinity;
    for (const [chat, people] of this.typing) {
      let changed = false;
      for (const [p, v] of people) {
        if (v.until <= now) {
          people.delete(p);
          changed = true;
        } else next = Math.min(next, v.until);
      }
      if (changed) this.emit({ kind: 'typing', chat });
    }
    if (next < Infinity) this.typingTimer = setTimeout(() => this.expireTyping(), next - now + 50);
  }

  /** First names of the people typing in a chat now. */
  typingNames(id) {
    const now = Date.now();
    return [...(this.typing.get(id)?.values() || [])].filter((v) => v.until > now).map((v) => v.name);
  }

  /** The user is typing: tell the others, at most every 3 s. */
  typed(id) {
    const now = Date.now();
    if (now - (this.typingSentAt.get(id) || 0) < TYPING_SEND_EVERY_MS) return;
    if (this.socket?.send({ type: 'typing', chat: id })) this.typingSentAt.set(id, now);
  }

  // ------------------------------------------------------------ direct messages

  async openDirect(orgId, person) {
    const s = await api.direct(orgId, person);
    const merged = this.mergeSummary(s);
    this.emit({ kind: 'list' });
    return merged;
  }
}
