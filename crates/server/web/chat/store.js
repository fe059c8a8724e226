// @ts-check
// The messenger tab's store: the socket's frames applied in `seq` order (a
// gap or `resync` reloads the chat over HTTP), the history loaded page by
// page, read marks and who is typing. What it keeps is state.js's; sending
// is outbox.js's; what each event changes, events.js's. The interface
// subscribes with on() and renders what changed.

import { api } from '../api.js';
import { firstName, preview } from './format.js';
import { newData, insertMessage } from './state.js';
import { OutboxStore } from './outbox.js';
import { applyEvent } from './events.js';

/** @typedef {import('../types.js').Frame} Frame */
/** @typedef {import('../types.js').ChatSummary} ChatSummary */

const PAGE = 50;
const TYPING_MS = 5000;
const TYPING_SEND_EVERY_MS = 3000;

/** The reactions a chat allows (messenger::Reaction::ALLOWED on the server). */
export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏', '👎', '🔥', '🎉', '✅'];

export class ChatStore extends OutboxStore {
  // ------------------------------------------------------------ frames

  /**
   * @param {Frame} f
   */
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

  /**
   * @param {Frame} f
   * @param {boolean} [live]
   */
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
    applyEvent(this, id, f, live);
  }
  // ------------------------------------------------------------ loading

  /**
   * Loads (or reloads) the newest page of a chat. Frames for it that come in
   * meanwhile are held and applied after, from the page's `last_seq`.
   * @param {number} id
   * @param {{ withSummary?: boolean, held?: Frame[] }} [opts]
   * @returns {Promise<void>}
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
   * @param {number} id
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

  /**
   * Makes sure a chat's history is loaded (the first page).
   * @param {number} id
   * @returns {Promise<void>}
   */
  ensureLoaded(id) {
    const d = this.data.get(id);
    if (d && !d.failed) return Promise.resolve();
    if (d?.failed) this.data.delete(id);
    return this.load(id);
  }

  /**
   * A gap or `resync`: the history (if loaded) and the summary come again over HTTP.
   * @param {number} id
   * @param {Frame[]} [held] frames to apply after
   * @returns {Promise<void>}
   */
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

  /**
   * @param {number} id
   */
  refreshSummarySoon(id) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.resync(id), 300);
  }

  /**
   * Unread from the loaded page, when the page reaches back to the read position.
   * @param {number} id
   */
  recountUnread(id) {
    const s = this.chats.get(id);
    const d = this.data.get(id);
    if (!s || !d) return;
    const read = s.last_read_seq || 0;
    const covers = !d.hasMore || (d.messages[0] && d.messages[0].seq <= read + 1);
    if (!covers) return;
    s.unread = d.messages.filter((m) => m.seq > read && !m.deleted && m.author.person !== s.me).length;
  }

  /**
   * @param {number} id
   * @returns {Promise<boolean>} whether older messages came
   */
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

  /**
   * @param {number} id
   */
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
  // ------------------------------------------------------------ read marks and typing

  /**
   * Everything applied in the chat is read (the user sees the newest message).
   * @param {number} id
   */
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

  /**
   * A consent form as the server answered the viewer (their children in it).
   * @param {number} chat
   * @param {number} id the message
   * @param {any} form
   */
  consentChanged(chat, id, form) {
    const d = this.data.get(chat);
    for (const m of [d?.byId.get(id), ...(d?.pins || []).filter((p) => p.id === id)]) if (m) m.consent = form;
    this.emit({ kind: 'chat', chat });
  }

  /**
   * Loads the viewer's own rows of a consent form, once at a time.
   * @param {number} chat
   * @param {number} id the message
   */
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

  /**
   * A poll as the viewer's own vote or close answered it (their choice in it).
   * @param {number} chat
   * @param {number} id the message
   * @param {any} poll
   */
  pollChanged(chat, id, poll) {
    const d = this.data.get(chat);
    for (const m of [d?.byId.get(id), ...(d?.pins || []).filter((p) => p.id === id)]) if (m) m.poll = poll;
    this.emit({ kind: 'chat', chat });
  }

  /**
   * @param {Frame} f
   */
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

  /**
   * @param {Frame} f
   */
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

  /**
   * First names of the people typing in a chat now.
   * @param {number} id
   * @returns {string[]}
   */
  typingNames(id) {
    const now = Date.now();
    return [...(this.typing.get(id)?.values() || [])].filter((v) => v.until > now).map((v) => v.name);
  }

  /**
   * The user is typing: tell the others, at most every 3 s.
   * @param {number} id
   */
  typed(id) {
    const now = Date.now();
    if (now - (this.typingSentAt.get(id) || 0) < TYPING_SEND_EVERY_MS) return;
    if (this.socket?.send({ type: 'typing', chat: id })) this.typingSentAt.set(id, now);
  }

  // ------------------------------------------------------------ direct messages

  /**
   * @param {number} orgId
   * @param {number} person
   * @returns {Promise<ChatSummary>}
   */
  async openDirect(orgId, person) {
    const s = await api.direct(orgId, person);
    const merged = this.mergeSummary(s);
    this.emit({ kind: 'list' });
    return merged;
  }
}
