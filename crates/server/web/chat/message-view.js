// @ts-check
// One message of the feed as elements: the bubble (author, quote, files,
// text with links and mentions, poll or consent card, time, ✓/✓✓), its
// reactions and read receipts; a call's record; a send still in the outbox.

import { h, icon } from '../dom.js';
import { t, errorText } from '../i18n.js';
import * as fmt from './format.js';
import { markMentions } from './mentions.js';
import { attachmentsEl, svg } from './attachments.js';
import { PHONE, CAMERA } from './call-icons.js';
import { hiddenText } from '../safeguarding.js';
import { pollEl } from './polls.js';
import { consentEl } from './consent.js';

/** @typedef {import('./conversation.js').Conversation} Conversation */
/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../types.js').OutboxItem} OutboxItem */

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;

/** Text with its web addresses as links; never HTML. */
function richText(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = /[.,;:!?)»]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * @param {import('./conversation.js').Conversation} conv
 * @param {Message} m
 * @param {{ own: boolean, cont: boolean, status: string | null, direct: boolean, receipt: any }} opts status: `sent` or `read` (✓, ✓✓), null for others' messages
 * @returns {HTMLElement}
 */
export function messageEl(conv, m, { own, cont, status, direct, receipt }) {
  const s = conv.summary;
  const bubble = h('div', { class: 'pm-bubble' });
  if (!own && !direct && !cont) {
    const author = h('p', { class: 'pm-author' }, fmt.shortName(m.author.name));
    author.style.setProperty('--hue', fmt.hueOf(m.author.person));
    bubble.append(author);
  } else {
    bubble.append(h('span', { class: 'sr-only' }, `${own ? t('chat.you') : fmt.shortName(m.author.name)}: `));
  }
  let textEl;
  if (m.hidden) {
    textEl = h('p', { class: 'pm-text pm-tomb', 'data-testid': 'hidden-message' }, icon('alert'), h('span', null, hiddenText(m)));
  } else if (m.deleted) {
    textEl = h('p', { class: 'pm-text pm-tomb' }, icon('trash'), h('span', null, t('chat.deleted')));
  } else {
    if (m.reply_to) bubble.append(quoteEl(m.reply_to));
    if (m.attachments?.length) bubble.append(attachmentsEl(m));
    textEl = h('p', { class: 'pm-text' }, markMentions(richText(m.text), m.mentions));
  }
  if (m.urgent && !m.deleted) bubble.append(h('p', { class: 'pm-urgent', 'data-testid': 'urgent-badge' }, t('chat.urgent')));
  bubble.append(textEl);
  if (m.poll && !m.deleted) bubble.append(pollEl(conv, m));
  if (m.consent && !m.deleted) bubble.append(consentEl(conv, m));
  // The time sits at the end of the last line when there is room (a float).
  const meta = h('span', { class: 'pm-meta' });
  if (m.pinned && !m.deleted) meta.append(h('span', { class: 'pm-pin-mark', title: t('chat.pinned') }, icon('pin'), h('span', { class: 'sr-only' }, t('chat.pinned'))));
  if (m.edited_at && !m.deleted) {
    meta.append(h('span', { class: 'pm-edited', title: t('chat.editedAt', { date: fmt.fullTime(m.edited_at) }) }, t('chat.edited')));
  }
  meta.append(h('time', { class: 'pm-time', datetime: new Date(m.created_at * 1000).toISOString(), title: fmt.fullTime(m.created_at) },
    fmt.clockTime(m.created_at)));
  if (status) meta.append(statusEl(status));
  textEl.append(meta);

  const art = h('article', {
    class: ['pm-msg', own && 'pm-own', cont && 'pm-cont', m.deleted && 'pm-deleted'],
    id: `pm-m-${m.id}`, 'data-id': m.id, 'data-seq': m.seq, tabindex: '-1', 'data-testid': 'message',
  }, bubble);
  if (!m.deleted && m.reactions?.length) art.append(reactionsEl(m, s));
  if (receipt) art.append(conv.receipts.el(m, receipt));
  if (!m.deleted) {
    art.append(h('button', {
      type: 'button', class: 'pm-more', tabindex: '-1', 'aria-haspopup': 'menu', 'aria-label': t('chat.actions'), title: t('chat.actions'),
    }, icon('more')));
  }
  return art;
}

/**
 * A call's record: a small card in the middle of the feed, not a bubble.
 * @param {Message} m
 * @returns {HTMLElement}
 */
export function callRecordEl(m) {
  const { main, note } = fmt.callRecordText(m.call);
  const failed = m.call.outcome === 'missed' || m.call.outcome === 'declined';
  return h('div', { class: ['pm-call-record', failed && 'is-missed'], 'data-id': m.id, 'data-testid': 'call-record', 'data-outcome': m.call.outcome },
    h('span', { class: 'pm-call-record-icon', 'aria-hidden': 'true' }, svg(m.call.kind === 'video' ? CAMERA : PHONE)),
    h('span', { class: 'pm-call-record-text' },
      h('span', { class: 'pm-call-record-main' }, main),
      note ? h('span', { class: 'pm-call-record-note' }, note) : null),
    h('time', { class: 'pm-time', datetime: new Date(m.created_at * 1000).toISOString(), title: fmt.fullTime(m.created_at) },
      fmt.clockTime(m.created_at)));
}

function quoteEl(r) {
  const q = h('button', { type: 'button', class: 'pm-quote', tabindex: '-1', 'data-reply': r.id, 'data-testid': 'quote' },
    h('span', { class: 'pm-quote-author' }, fmt.shortName(r.author_name)),
    h('span', { class: 'pm-quote-text' }, r.deleted ? t('chat.deleted') : r.preview));
  return q;
}

function statusEl(status) {
  const map = {
    sending: ['clock', t('chat.status.sending')],
    sent: ['sent', t('chat.status.sent')],
    read: ['read', t('chat.status.read')],
    failed: ['alert', t('chat.status.failed')],
  };
  const [ic, label] = map[status];
  return h('span', { class: `pm-status pm-status-${status}`, title: label, 'data-status': status },
    icon(ic), h('span', { class: 'sr-only' }, label));
}

function reactionsEl(m, s) {
  return h('div', { class: 'pm-reacts', role: 'group', 'aria-label': t('chat.reactions') }, m.reactions.map((r) => {
    const mine = r.people.includes(s.me);
    const label = mine ? t('chat.reactionMine', { emoji: r.emoji, n: r.people.length }) : t('chat.reactionLabel', { emoji: r.emoji, n: r.people.length });
    return h('button', {
      type: 'button', class: 'pm-react', tabindex: '-1', 'aria-pressed': String(mine), 'aria-label': label, title: label,
      'data-emoji': r.emoji, disabled: s.read_only,
    }, h('span', { class: 'pm-react-emoji', 'aria-hidden': 'true' }, r.emoji), h('span', { class: 'pm-react-n', 'aria-hidden': 'true' }, String(r.people.length)));
  }));
}

/**
 * @param {import('./conversation.js').Conversation} conv
 * @param {OutboxItem} it
 * @param {boolean} [waitNotice] say that it waits (sent too often)
 * @returns {HTMLElement}
 */
export function pendingEl(conv, it, waitNotice = false) {
  const bubble = h('div', { class: 'pm-bubble' }, h('span', { class: 'sr-only' }, `${t('chat.you')}: `));
  if (it.reply) bubble.append(quoteEl(it.reply));
  const status = it.state === 'failed' ? 'failed' : it.state === 'sent' ? 'sent' : 'sending';
  bubble.append(h('p', { class: 'pm-text' }, richText(it.text), h('span', { class: 'pm-meta' },
    h('time', { class: 'pm-time' }, fmt.clockTime(it.created_at)), statusEl(status))));
  const art = h('article', {
    class: ['pm-msg', 'pm-own', 'pm-pending', it.state === 'failed' && 'pm-failed'],
    'data-client': it.client_id, tabindex: '-1', 'data-testid': 'message',
  }, bubble);
  if (it.state === 'failed') {
    const retry = h('button', { type: 'button', class: 'pm-link-btn' }, t('chat.retry'));
    retry.addEventListener('click', () => conv.store.retry(it.client_id));
    const drop = h('button', { type: 'button', class: 'pm-link-btn' }, t('chat.discard'));
    drop.addEventListener('click', () => {
      conv.store.discard(it.client_id);
      conv.composer.textarea?.focus();
    });
    art.append(h('div', { class: 'pm-fail', role: 'alert', 'data-testid': 'send-error' },
      icon('alert'), h('span', { class: 'pm-fail-text' }, errorText(it.error)), retry, drop));
  }
  if (waitNotice) {
    art.append(h('div', { class: 'pm-wait', role: 'status', 'data-testid': 'send-waiting' },
      icon('clock'), h('span', {}, t('chat.rateLimited'))));
  }
  return art;
}
