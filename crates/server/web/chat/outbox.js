// @ts-check
// Sending: a message shows at once as an outbox item and goes out over the
// socket now or as soon as it is back; the server's `ack` or `error` (or the
// message's own event) settles it. Sent too often, it waits and goes again by
// itself, in order. Nothing typed is lost.

import { ChatState } from './state.js';
import { preview } from './format.js';

/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../types.js').OutboxItem} OutboxItem */
/** @typedef {import('../types.js').Frame} Frame */

/** A UUID for a send; crypto.randomUUID needs a secure context, a school's LAN address may not be one. */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class OutboxStore extends ChatState {
  /**
   * The sends of a chat not acknowledged yet.
   * @param {number} id
   * @returns {OutboxItem[]}
   */
  outboxOf(id) {
    return this.outbox.filter((it) => it.chat === id);
  }

  /**
   * Posts a message: it shows at once, goes out now or as soon as the socket is back.
   * @param {number} id the chat
   * @param {string} text
   * @param {Message | null} reply the message answered
   * @param {any[]} [attachments] uploaded files
   * @param {number[]} [mentions] person ids
   * @param {boolean} [urgent] notifies at once, through quiet hours
   * @returns {OutboxItem}
   */
  send(id, text, reply, attachments = [], mentions = [], urgent = false) {
    /** @type {OutboxItem} */
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

  /**
   * @param {OutboxItem} item
   * @returns {boolean} whether the socket took it
   */
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
   * @param {number} id
   * @param {Message} m
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

  /**
   * @param {string} clientId
   */
  dropOutbox(clientId) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((it) => it.client_id !== clientId);
    if (this.outbox.length !== before) this.saveOutbox();
  }

  /**
   * @param {Frame} f
   */
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

  /**
   * @param {Frame} f
   */
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
   * @param {OutboxItem} it
   * @param {number} seconds
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

  /**
   * @param {string} clientId
   */
  retry(clientId) {
    const it = this.outbox.find((x) => x.client_id === clientId);
    if (!it) return;
    it.state = 'sending';
    it.error = null;
    this.saveOutbox();
    this.trySend(it);
    this.emit({ kind: 'chat', chat: it.chat });
  }

  /**
   * @param {string} clientId
   */
  discard(clientId) {
    const it = this.outbox.find((x) => x.client_id === clientId);
    this.dropOutbox(clientId);
    if (it) this.emit({ kind: 'chat', chat: it.chat });
  }
}
