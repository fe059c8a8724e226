// @ts-check
// How each event of a chat (docs/protocol.md «Events») changes what the tab
// knows: the summary in the list, the loaded history and the pinned messages.

import { insertMessage } from './state.js';
import { preview } from './format.js';

/**
 * Applies one event, the chat's position already moved to it, and tells the listeners.
 * @param {import('./store.js').ChatStore} store
 * @param {number} id the chat
 * @param {import('../types.js').Frame} f the `event` frame
 * @param {boolean} live it happened now (not replayed after a reconnect)
 */
export function applyEvent(store, id, f, live) {
  const s = store.chats.get(id);
  const d = store.data.get(id);
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
      if (m.client_id) store.dropOutbox(m.client_id);
      else if (m.author.person === s.me) store.matchOutbox(id, m);
      s.last_message = {
        id: m.id, author_name: m.author.name, author: m.author.person, preview: preview(m.text), at: m.created_at, deleted: false,
        call: m.call,
      };
      const fromOther = m.author.person !== s.me;
      if (fromOther) {
        if (f.seq > (s.last_read_seq || 0)) s.unread = (s.unread || 0) + 1;
        store.typing.get(id)?.delete(m.author.person);
        store.onIncoming(id, m, live);
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
      else if (!m && s.unread > 0) store.refreshSummarySoon(id);
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
        else store.loadPins(id);
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
      if (mine) store.refreshConsent(id, e.message_id);
      break;
    }
    default:
      // A kind this version does not know: the position still moves on.
  }
  store.emit({ kind: 'chat', chat: id, event: e });
}
