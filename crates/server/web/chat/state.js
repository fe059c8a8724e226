// @ts-check
// What the messenger tab knows: the chat list, the loaded history of chats,
// each chat's position (the highest event `seq` applied, docs/protocol.md),
// the outbox of sends not yet acknowledged (kept in localStorage), who is
// typing. The layers above change it: outbox.js sends, store.js applies the
// socket's frames and loads over HTTP. The interface subscribes with on().

import { api } from '../api.js';

/** @typedef {import('../types.js').ChatSummary} ChatSummary */
/** @typedef {import('../types.js').ChatData} ChatData */
/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../types.js').OutboxItem} OutboxItem */
/** @typedef {import('../types.js').Frame} Frame */
/** @typedef {import('../types.js').StoreChange} StoreChange */

const STATIC_FIELDS = ['org', 'org_name', 'kind', 'name', 'description', 'me', 'admin', 'announcement_only', 'read_only', 'members'];

/**
 * A chat's loaded history from a page of messages.
 * @param {Message[]} messages
 * @param {boolean} hasMore
 * @returns {ChatData}
 */
export function newData(messages, hasMore) {
  const d = { messages: [], byId: new Map(), hasMore, loadingOlder: false, pins: null, error: null };
  for (const m of messages) insertMessage(d, m);
  return d;
}

/**
 * Puts a message in a loaded history in `seq` order; one already there takes the new fields.
 * @param {ChatData} d
 * @param {Message} m
 * @returns {Message} the message as kept
 */
export function insertMessage(d, m) {
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

export class ChatState {
  /** @param {{ accountId: number }} opts */
  constructor({ accountId }) {
    this.accountId = accountId;
    /**
     * id → ChatSummary, kept current by events.
     * @type {Map<number, ChatSummary>}
     */
    this.chats = new Map();
    this.listLoaded = false;
    /** @type {any} */
    this.listError = null;
    /**
     * id → the highest event seq applied.
     * @type {Map<number, number>}
     */
    this.pos = new Map();
    /**
     * id → loaded history.
     * @type {Map<number, ChatData>}
     */
    this.data = new Map();
    /**
     * id → frames held while the chat is (re)loaded over HTTP.
     * @type {Map<number, Frame[]>}
     */
    this.buffer = new Map();
    /** @type {Map<number, Promise<void>>} */
    this.loads = new Map();
    /**
     * chat → person → who is typing, until when (ms).
     * @type {Map<number, Map<number, { name: string, until: number }>>}
     */
    this.typing = new Map();
    /** @type {Map<number, number>} */
    this.typingSentAt = new Map();
    /**
     * chat → a read position the socket could not send yet.
     * @type {Map<number, number>}
     */
    this.unsentReads = new Map();
    /** @type {OutboxItem[]} */
    this.outbox = this.readOutbox();
    /** When messages held back for sending too often go again (ms; 0: none held). */
    this.resendAt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.resendTimer = null;
    /** @type {Set<(change: StoreChange) => void>} */
    this.listeners = new Set();
    /** @type {{ send: (frame: object) => boolean } | null} */
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

  /**
   * @param {(change: StoreChange) => void} fn
   * @returns {() => boolean} unsubscribes
   */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(change) {
    for (const fn of this.listeners) fn(change);
  }

  // ------------------------------------------------------------ the list

  /**
   * (Re)loads the chat list; calls made while one is running make it run once more.
   * @returns {Promise<void>}
   */
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

  /**
   * @param {ChatSummary[]} list
   */
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
   * @param {ChatSummary} s
   * @returns {ChatSummary} the summary kept
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

  /**
   * @param {number} id
   */
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

  /**
   * Chats, most recent first.
   * @returns {ChatSummary[]}
   */
  sorted() {
    const at = (s) => Math.max(s.last_message?.at || 0, this.outboxAt(s.id));
    return [...this.chats.values()].sort((a, b) => at(b) - at(a) || b.last_seq - a.last_seq || a.name.localeCompare(b.name, 'ru'));
  }

  /**
   * @param {number} id
   * @returns {number} the newest unsent message's time (unix seconds), 0 for none
   */
  outboxAt(id) {
    let at = 0;
    for (const it of this.outbox) if (it.chat === id) at = Math.max(at, it.created_at);
    return at;
  }

  /**
   * @returns {number}
   */
  unreadTotal() {
    let n = 0;
    for (const s of this.chats.values()) n += s.unread || 0;
    return n;
  }

  /**
   * @returns {{ chat: number, seq: number }[]} for the socket's `hello`
   */
  positions() {
    return [...this.pos].map(([chat, seq]) => ({ chat, seq }));
  }

  // ------------------------------------------------------------ the outbox, kept across reloads

  /**
   * @returns {OutboxItem[]}
   */
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
}
