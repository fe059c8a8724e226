// @ts-check
// The chat-management audit log, for school administrators: who did what to
// which chat and when, before → after; filters by chat, action and dates,
// and the same selection as a CSV file.

import './manage-strings.js';
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, lang, formatDate, formatDateTime } from '../i18n.js';
import { notice, button, field, emptyState } from '../ui.js';
import { frame, staffOnly, loadOptions } from './manage.js';

export const name = 'manage-audit';

const ACTIONS = ['create', 'edit', 'add_member', 'remove_member', 'appoint_admin', 'revoke_admin', 'archive', 'unarchive', 'delete', 'restore', 'purge',
  'report', 'hide_message', 'mute_member', 'dismiss_report', 'open_chat'];
const PAGE = 100;
const VALUES = new Set(['active', 'pending', 'removed_by_hand', 'live', 'archived', 'read_only_hidden', 'roster', 'manual']);

/** A stored value as words: «да», «ожидает привязки», a date. */
function valueText(key, v) {
  if (v === null || v === undefined) return t('mg.value.empty');
  if (typeof v === 'boolean') return t(`mg.value.${v}`);
  if (typeof v === 'number' && key.endsWith('_at')) return formatDate(v);
  if (VALUES.has(v)) return t(`mg.value.${v}`);
  if (v === '') return t('mg.value.empty');
  return String(v);
}

/** «название: Олимпиада → Олимпиада по физике; пишут только администраторы: нет → да». */
const ORDER = ['name', 'description', 'announcement_only', 'status', 'source', 'admin', 'state', 'deleted_at', 'purge_at', 'purged_at'];

export function changeText(before, after) {
  const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].sort((a, b) => rank(a) - rank(b));
  return keys.map((k) => {
    const label = t(`mg.field.${k}`);
    const has = (o) => o && Object.prototype.hasOwnProperty.call(o, k);
    if (has(before) && has(after)) return `${label}: ${valueText(k, before[k])} → ${valueText(k, after[k])}`;
    if (has(after)) return `${label}: ${valueText(k, after[k])}`;
    return `${label}: ${valueText(k, before[k])} → —`;
  }).join('; ');
}

export async function render(ctx) {
  const options = await loadOptions(ctx);
  const orgId = ctx.params.org;
  if (!options) return staffOnly(orgId);
  if (!options.administrator) {
    return h('div', { class: 'container narrow' }, ...frame(orgId, options, null, [{ label: t('mg.tabAudit') }]),
      notice('info', t('error.forbiddenTitle')));
  }
  const q = ctx.query;
  const chats = await api.manage.chats(orgId, { state: 'all' });
  const chatSelect = h('select', { class: 'input', 'data-testid': 'audit-chat' },
    h('option', { value: '' }, t('mg.auditChatAll')),
    chats.map((c) => h('option', { value: String(c.id), selected: q.get('chat') === String(c.id) }, c.name)));
  // A chat purged or not listed (a link from its page) still filters.
  if (q.get('chat') && !chats.some((c) => String(c.id) === q.get('chat'))) {
    chatSelect.append(h('option', { value: q.get('chat'), selected: true }, `#${q.get('chat')}`));
  }
  const action = h('select', { class: 'input', 'data-testid': 'audit-action' },
    h('option', { value: '' }, t('mg.auditActionAll')),
    ACTIONS.map((a) => h('option', { value: a, selected: q.get('action') === a }, t(`mg.action.${a}`))));
  const from = h('input', { type: 'date', class: 'input', value: q.get('from') || '' });
  const to = h('input', { type: 'date', class: 'input', value: q.get('to') || '' });
  const csv = h('a', { class: 'btn btn-secondary', download: '', 'data-testid': 'audit-csv' }, icon('down'), h('span', { class: 'btn-label' }, t('mg.auditCsv')));
  const form = h('form', { class: 'manage-filters audit-filters', role: 'search', novalidate: true },
    field({ label: t('mg.auditChat'), input: chatSelect }).wrap,
    field({ label: t('mg.auditAction'), input: action }).wrap,
    field({ label: t('mg.auditFrom'), input: from }).wrap,
    field({ label: t('mg.auditTo'), input: to }).wrap);
  const count = h('p', { class: 'toolbar-text', role: 'status', 'aria-live': 'polite' });
  const list = h('ol', { class: 'audit-list', 'data-testid': 'audit-list' });
  const more = button(t('common.more'), { kind: 'secondary' });
  const moreWrap = h('div', { class: 'more-wrap' }, more);

  // Dates are the administrator's local days.
  const day = (v, plus = 0) => (v ? Math.floor(new Date(`${v}T00:00:00`).getTime() / 1000) + plus * 86400 : '');
  const filters = () => ({ chat: chatSelect.value, action: action.value, from: day(from.value), to: day(to.value, 1) });
  let offset = 0;
  let shown = 0;
  async function load(reset) {
    if (reset) {
      offset = 0;
      shown = 0;
      clear(list);
      const qs = new URLSearchParams(Object.entries({ chat: chatSelect.value, action: action.value, from: from.value, to: to.value }).filter(([, v]) => v));
      history.replaceState(null, '', `#/chats/${orgId}/manage/audit${qs.toString() ? `?${qs}` : ''}`);
      csv.href = api.manage.auditCsvUrl(orgId, { ...filters(), lang: lang() });
    }
    const rows = await api.manage.audit(orgId, { ...filters(), limit: PAGE, offset });
    for (const e of rows) list.append(entry(orgId, e));
    offset += rows.length;
    shown += rows.length;
    moreWrap.hidden = rows.length < PAGE;
    count.textContent = t('mg.auditShown', { n: shown });
    if (!shown) list.append(h('li', null, emptyState(t('mg.auditEmpty'), t('mg.auditEmptyHint'), 'book')));
  }
  for (const el of [chatSelect, action, from, to]) el.addEventListener('change', () => load(true));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);

  return h('div', { class: 'container manage-page' },
    ...frame(orgId, options, 'audit'),
    h('p', { class: 'lead manage-lead' }, t('mg.auditLead')),
    form,
    h('div', { class: 'toolbar' }, count, csv),
    list, moreWrap);
}

function entry(orgId, e) {
  const change = changeText(e.before, e.after);
  return h('li', { class: 'audit-entry', 'data-action': e.action },
    h('time', { class: 'audit-time', datetime: new Date(e.at * 1000).toISOString() }, formatDateTime(e.at)),
    h('div', { class: 'audit-main' },
      h('p', { class: 'audit-line' },
        h('strong', null, e.actor_name || t('mg.auditSystem')), ' — ', t(`mg.action.${e.action}`),
        e.person_name ? [': ', h('span', { class: 'audit-person' }, e.person_name)] : null),
      h('p', { class: 'audit-chat' }, icon('chat'), ' ',
        h('a', { href: `#/chats/${orgId}/manage/${e.chat_id}` }, e.chat_name)),
      change ? h('p', { class: 'audit-change muted small' }, change) : null));
}
