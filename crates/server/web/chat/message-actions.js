// @ts-check
// What can be done to a message: its menu (reply, edit, copy, pin, delete,
// report, a reaction) opened by the ⋯ button, a right click or the keyboard,
// and the actions themselves.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, confirmDialog } from '../ui.js';
import { REACTIONS } from './store.js';
import { openMenu } from './menu.js';
import { reportDialog } from '../safeguarding.js';

/** @typedef {import('./conversation.js').Conversation} Conversation */
/** @typedef {import('../types.js').Message} Message */

/**
 * @param {import('./conversation.js').Conversation} conv
 * @param {HTMLElement} art the message's element
 * @param {{ x?: number, y?: number, left?: number, bottom?: number, top?: number }} at where
 * @param {HTMLElement} [opener] focus goes back here
 */
export function openMessageMenu(conv, art, at, opener) {
  const s = conv.summary;
  if (art.dataset.client) {
    const it = conv.store.outboxOf(conv.id).find((x) => x.client_id === art.dataset.client);
    if (!it) return;
    /** @type {{ label: string, icon?: string, danger?: boolean, onSelect: Function }[]} */
    const items = [{ label: t('chat.copy'), icon: 'copy', onSelect: () => copy(it.text) }];
    if (it.state === 'failed') {
      items.unshift({ label: t('chat.retry'), icon: 'send', onSelect: () => conv.store.retry(it.client_id) });
      items.push({ label: t('chat.discard'), icon: 'trash', danger: true, onSelect: () => conv.store.discard(it.client_id) });
    }
    openMenu({ label: t('chat.actions'), items, opener: opener || art, at });
    return;
  }
  const m = conv.messageOf(art);
  if (!m || m.deleted) return;
  const own = m.author.person === s.me;
  const live = !s.read_only;
  const items = [];
  if (conv.canPost()) items.push({ label: t('chat.reply'), icon: 'reply', onSelect: () => conv.composer.startReply(m) });
  if (own && conv.canPost()) items.push({ label: t('chat.edit'), icon: 'edit', onSelect: () => conv.composer.startEdit(m) });
  items.push({ label: t('chat.copy'), icon: 'copy', onSelect: () => copy(m.text) });
  if (m.reply_to && !m.reply_to.deleted) items.push({ label: t('chat.showOriginal'), icon: 'chevron', onSelect: () => conv.jumpTo(m.reply_to.id) });
  if (s.admin && live) {
    items.push(m.pinned
      ? { label: t('chat.unpin'), icon: 'pin', onSelect: () => setPinned(conv, m, false) }
      : { label: t('chat.pin'), icon: 'pin', onSelect: () => setPinned(conv, m, true) });
  }
  if ((own || s.admin) && live) items.push({ label: t('chat.delete'), icon: 'trash', danger: true, onSelect: () => removeMessage(conv, m) });
  if (!own && !m.call) items.push({ label: t('sg.report'), icon: 'alert', onSelect: () => reportDialog(conv.id, m) });
  const reactions = live ? REACTIONS.map((emoji) => ({
    emoji,
    label: t('chat.react', { emoji }),
    pressed: Boolean(m.reactions?.find((r) => r.emoji === emoji)?.people.includes(s.me)),
    onSelect: () => toggleReaction(conv, m, emoji),
  })) : [];
  openMenu({ label: t('chat.actions'), reactions, reactionsLabel: t('chat.reactions'), items, opener: opener || art, at });
}

/**
 * @param {import('./conversation.js').Conversation} conv
 * @param {Message} m
 * @param {string} emoji
 */
export async function toggleReaction(conv, m, emoji) {
  const s = conv.summary;
  const mine = Boolean(m.reactions?.find((r) => r.emoji === emoji)?.people.includes(s.me));
  try {
    if (mine) await api.unreact(conv.id, m.id, emoji);
    else await api.react(conv.id, m.id, emoji);
  } catch (e) {
    announce(e.text ? e.text() : t('error.unknown'), { error: true });
  }
}

/** @param {import('./conversation.js').Conversation} conv */
async function setPinned(conv, m, pinned) {
  try {
    if (pinned) await api.pin(conv.id, m.id);
    else await api.unpin(conv.id, m.id);
    announce(pinned ? t('chat.pinnedDone') : t('chat.unpinnedDone'));
  } catch (e) {
    announce(e.text ? e.text() : t('error.unknown'), { error: true });
  }
}

/** @param {import('./conversation.js').Conversation} conv */
async function removeMessage(conv, m) {
  const own = m.author.person === conv.summary.me;
  const ok = await confirmDialog({
    title: t('chat.deleteTitle'),
    text: own ? t('chat.deleteText') : t('chat.deleteOtherText', { name: m.author.name }),
    confirmLabel: t('chat.deleteConfirm'),
    danger: true,
  });
  if (!ok) return;
  try {
    await api.deleteMessage(conv.id, m.id);
    announce(t('chat.deletedDone'));
    if (conv.composer.mode?.message?.id === m.id) conv.composer.cancelMode();
  } catch (e) {
    announce(e.text ? e.text() : t('error.unknown'), { error: true });
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  announce(t('chat.copied'));
}
