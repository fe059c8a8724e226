// @ts-check
// «Управление чатами» (DESIGN §5), for school staff: the organisation's chats
// with filters, member and pending counts, and «Создать чат». Administrators
// see every chat and the audit log; other staff the chats they admin. One
// chat's page is manage-chat.js, the audit log manage-audit.js.

import './manage-strings.js';
import { api } from '../api.js';
import { h, icon, clear, uid } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import {
  pageTitle, breadcrumbs, notice, button, field, textInput, openDialog, announce, emptyState,
} from '../ui.js';

export const name = 'manage';

export const KINDS = ['custom', 'staff_room', 'class', 'parents', 'subject'];
const STATES = ['current', 'archived', 'deleted', 'all'];

/** Breadcrumbs and tabs shared by the management pages. */
export function frame(orgId, ctx, current, trail = []) {
  const parts = [
    breadcrumbs([
      { label: t('chats.title'), href: `#/chats/${orgId}` },
      { label: t('mg.title'), href: `#/chats/${orgId}/manage` },
      ...trail,
    ]),
    pageTitle(trail.length ? trail[trail.length - 1].label : t('mg.title'), ctx.org_name),
    // Safeguarding staff who are not administrators see the tabs for the reports.
    current && (ctx.administrator || ctx.moderator) ? h('nav', { class: 'tabs', 'aria-label': t('mg.title') },
      h('a', { class: 'tab', href: `#/chats/${orgId}/manage`, 'aria-current': current === 'chats' ? 'page' : null },
        icon('chat'), h('span', null, t('mg.tabChats'))),
      ctx.administrator ? h('a', { class: 'tab', href: `#/chats/${orgId}/manage/audit`, 'aria-current': current === 'audit' ? 'page' : null },
        icon('book'), h('span', null, t('mg.tabAudit'))) : null,
      h('a', { class: 'tab', href: `#/chats/${orgId}/manage/reports`, 'aria-current': current === 'reports' ? 'page' : null },
        icon('alert'), h('span', null, t('sg.tab')))) : null,
  ];
  return parts.filter(Boolean);
}

/** The page's frame for somebody who may not manage chats. */
export function staffOnly(orgId) {
  return h('div', { class: 'container narrow' },
    breadcrumbs([{ label: t('chats.title'), href: `#/chats/${orgId}` }, { label: t('mg.title') }]),
    pageTitle(t('mg.title')),
    notice('info', t('mg.staffOnly')));
}

/** Loads the page frame; null when the person is not staff here. */
export async function loadOptions(ctx) {
  try {
    const options = await api.manage.options(ctx.params.org);
    ctx.setHeaderOrg(options.org_name);
    // Moderators (administrators, safeguarding staff) may read this list.
    options.moderator = options.administrator
      || await api.safeguarding.staff(ctx.params.org).then(() => true, () => false);
    return options;
  } catch (e) {
    if (e.status === 403) return null;
    throw e;
  }
}

/** «5А», «Математика 5А», «2026/2027» — what a chat is about, for its line. */
export function chatContext(c) {
  return [c.class_name, c.year_title].filter(Boolean).join(' · ');
}

/** The badges of a chat's state and members. */
export function chatBadges(c) {
  return [
    c.deleted_at ? h('span', { class: 'badge badge-danger' }, icon('trash'), t('mg.deletedUntil', { date: formatDate(c.purge_at) })) : null,
    !c.deleted_at && c.state === 'archived' ? h('span', { class: 'badge' }, icon('archive'), t('mg.archived')) : null,
    !c.deleted_at && c.state === 'read_only_hidden' ? h('span', { class: 'badge' }, t('mg.hidden')) : null,
    c.announcement_only ? h('span', { class: 'badge' }, icon('megaphone'), t('mg.announcement')) : null,
  ];
}

export async function render(ctx) {
  const options = await loadOptions(ctx);
  const orgId = ctx.params.org;
  if (!options) return staffOnly(orgId);

  const q = ctx.query;
  const search = h('input', {
    type: 'search', class: 'input', value: q.get('q') || '', maxlength: '100', placeholder: t('mg.searchPlaceholder'),
    autocomplete: 'off', 'data-testid': 'manage-search',
  });
  const kind = h('select', { class: 'input', 'data-testid': 'manage-kind' },
    h('option', { value: '' }, t('mg.kindAll')),
    KINDS.map((k) => h('option', { value: k, selected: q.get('kind') === k }, t(`mg.kindPlural.${k}`))));
  const klass = h('select', { class: 'input', 'data-testid': 'manage-class' },
    h('option', { value: '' }, t('mg.classAll')),
    options.classes.map((c) => h('option', { value: String(c.id), selected: q.get('class') === String(c.id) }, c.name)));
  const year = h('select', { class: 'input', 'data-testid': 'manage-year' },
    h('option', { value: '' }, t('mg.yearAll')),
    options.years.map((y) => h('option', { value: String(y.id), selected: q.get('year') === String(y.id) }, y.name)));
  const state = h('select', { class: 'input', 'data-testid': 'manage-state' },
    STATES.map((s) => h('option', { value: s, selected: (q.get('state') || 'current') === s }, t(`mg.state.${s}`))));
  const searchField = field({ label: t('mg.search'), input: search });
  const form = h('form', { class: 'manage-filters', role: 'search', 'aria-label': t('mg.filters'), novalidate: true },
    searchField.wrap,
    field({ label: t('mg.kind'), input: kind }).wrap,
    field({ label: t('mg.class'), input: klass }).wrap,
    options.years.length > 1 ? field({ label: t('mg.year'), input: year }).wrap : null,
    field({ label: t('mg.state'), input: state }).wrap);

  const count = h('p', { class: 'toolbar-text', role: 'status', 'aria-live': 'polite', 'data-testid': 'manage-count' });
  const list = h('ul', { class: 'manage-list', 'data-testid': 'manage-list' });

  const filters = () => ({ q: search.value.trim(), kind: kind.value, class: klass.value, year: year.value, state: state.value });
  let token = 0;
  async function load() {
    const my = ++token;
    const f = filters();
    const qs = new URLSearchParams(Object.entries(f).filter(([k, v]) => v && !(k === 'state' && v === 'current')));
    history.replaceState(null, '', `#/chats/${orgId}/manage${qs.toString() ? `?${qs}` : ''}`);
    let chats;
    try {
      chats = await api.manage.chats(orgId, f);
    } catch (ex) {
      if (my !== token) return;
      clear(list).append(h('li', null, notice('error', ex.text ? ex.text() : t('error.unknown'))));
      return;
    }
    if (my !== token) return;
    clear(list);
    count.textContent = t('mg.found', { n: chats.length });
    if (!chats.length) {
      list.append(h('li', null, emptyState(t('mg.none'), t('mg.noneHint'))));
      return;
    }
    // Grouped by kind (the server sorts them so): staff's own chats first.
    let kindShown = null;
    for (const c of chats) {
      if (c.kind !== kindShown) {
        kindShown = c.kind;
        list.append(h('li', { class: 'manage-group' }, h('h2', { class: 'grade-title' }, t(`mg.kindPlural.${c.kind}`))));
      }
      list.append(chatRow(orgId, c));
    }
  }
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(load, 250);
  });
  for (const s of [kind, klass, year, state]) s.addEventListener('change', load);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(debounce);
    load();
  });
  await load();

  return h('div', { class: 'container manage-page' },
    ...frame(orgId, options, 'chats'),
    h('p', { class: 'lead manage-lead' }, options.administrator ? t('mg.leadAdmin') : t('mg.leadStaff')),
    h('div', { class: 'toolbar' }, count,
      options.can_create
        ? button(t('mg.create'), { kind: 'primary', iconName: 'plus', attrs: { 'data-testid': 'create-chat' }, onClick: () => createChat(ctx, orgId) })
        : null),
    form, list);
}

function chatRow(orgId, c) {
  const about = chatContext(c);
  return h('li', null,
    h('a', { class: 'manage-row', href: `#/chats/${orgId}/manage/${c.id}`, 'data-chat': c.name },
      h('span', { class: `chat-kind chat-kind-${c.kind}` }, t(`mg.kind.${c.kind}`)),
      h('span', { class: 'manage-row-main' },
        h('span', { class: 'manage-row-name' }, c.name),
        about ? h('span', { class: 'muted small' }, about) : null,
        h('span', { class: 'manage-row-meta' },
          h('span', { class: 'manage-count' }, icon('users'), t('mg.members', { n: c.member_count })),
          c.pending_count ? h('span', { class: 'badge badge-pending' }, t('mg.pending', { n: c.pending_count })) : null,
          c.admin_count === 0 && !c.deleted_at ? h('span', { class: 'badge' }, t('mg.noAdmins')) : null,
          ...chatBadges(c))),
      icon('chevron', 'tile-chevron')));
}

/** The name, description and «only admins post» fields, for creating and editing. */
export function chatForm(initial = {}, { names = [] } = {}) {
  const nameInput = textInput({ value: initial.name || '', maxlength: '100', 'data-testid': 'chat-name' });
  const nameField = field({ label: t('mg.name'), input: nameInput, hint: t('mg.nameHint') });
  const description = h('textarea', { class: 'input textarea', rows: '3', maxlength: '500', 'data-testid': 'chat-description' });
  description.value = initial.description || '';
  const descriptionField = field({ label: t('mg.description'), input: description, hint: t('mg.descriptionHint'), optional: true });
  const announcementId = uid('ann');
  const announcement = h('input', { type: 'checkbox', id: announcementId, checked: Boolean(initial.announcement_only), 'data-testid': 'chat-announcement' });
  const announcementField = h('label', { class: 'check check-block', for: announcementId }, announcement,
    h('span', null, h('span', { class: 'check-title' }, t('mg.announcementOnly')),
      h('span', { class: 'field-hint' }, t('mg.announcementOnlyHint'))));
  const duplicate = h('p', { class: 'field-warning', role: 'status', hidden: true, 'data-testid': 'name-duplicate' }, t('mg.nameDuplicate'));
  const folded = new Set(names.map((n) => n.trim().toLowerCase().replace(/ё/g, 'е')));
  const original = (initial.name || '').trim().toLowerCase().replace(/ё/g, 'е');
  const checkDuplicate = () => {
    const v = nameInput.value.trim().toLowerCase().replace(/ё/g, 'е');
    duplicate.hidden = !v || v === original || !folded.has(v);
  };
  nameInput.addEventListener('input', () => {
    nameField.setError('');
    checkDuplicate();
  });
  nameField.wrap.append(duplicate);
  return {
    el: h('div', { class: 'dialog-fields' }, nameField.wrap, descriptionField.wrap, announcementField),
    /** The form's value, or null after marking what is wrong. */
    value() {
      const n = nameInput.value.trim();
      if (!n) nameField.setError(t('mg.nameEmpty'));
      else if ([...n].length > 100) nameField.setError(t('mg.nameLong'));
      else nameField.setError('');
      if (!n || [...n].length > 100) {
        nameInput.focus();
        return null;
      }
      return { name: n, description: description.value.trim(), announcement_only: announcement.checked };
    },
  };
}

async function createChat(ctx, orgId) {
  // Every chat's name, for the duplicate warning (allowed, but said).
  const all = await api.manage.chats(orgId, { state: 'all' }).catch(() => []);
  const form = chatForm({}, { names: all.map((c) => c.name) });
  await openDialog({
    title: t('mg.createTitle'),
    build: (body) => body.append(form.el),
    submitLabel: t('mg.createSubmit'),
    onSubmit: async () => {
      const value = form.value();
      if (!value) return false;
      const chat = await api.manage.create(orgId, { ...value, members: [] });
      announce(t('mg.created', { name: chat.name }));
      ctx.navigate(`/chats/${orgId}/manage/${chat.id}?add=1`);
      return true;
    },
  });
}
