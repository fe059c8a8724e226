// @ts-check
// One chat in «Управление чатами»: its settings, its members with why each is
// there (from the school's records or by hand) and who is waiting to link,
// chat admins, adding people from the roster (search, filters, a whole class
// at once), archive, delete and restore.

import './manage-strings.js';
import { api, ApiError } from '../api.js';
import { h, icon, clear, append, fullName, initials, uid } from '../dom.js';
import { t, roleName, formatDate, ROLES } from '../i18n.js';
import { notice, button, linkButton, field, openDialog, confirmDialog, announce, roleChips, busy } from '../ui.js';
import { frame, staffOnly, loadOptions, chatContext, chatBadges, chatForm } from './manage.js';

export const name = 'manage-chat';

export async function render(ctx) {
  const options = await loadOptions(ctx);
  const orgId = ctx.params.org;
  if (!options) return staffOnly(orgId);
  const chat = await api.manage.chat(orgId, ctx.params.chat);
  const root = h('div', { class: 'container manage-page' });
  const page = { ctx, options, orgId, root, chat };
  draw(page);
  if (ctx.query.get('add') === '1' && chat.can_manage) {
    history.replaceState(null, '', `#/chats/${orgId}/manage/${chat.id}`);
    setTimeout(() => addPeople(page), 0);
  }
  return root;
}

/** Redraws the page from `page.chat`, keeping the focus near where it was. */
function draw(page, focusSelector) {
  const { root, chat, orgId, options } = page;
  append(clear(root), [
    ...frame(orgId, options, null, [{ label: chat.name }]),
    h('p', { class: 'manage-sub' },
      h('span', { class: `chat-kind chat-kind-${chat.kind}` }, t(`mg.kind.${chat.kind}`)),
      chatContext(chat) ? h('span', { class: 'muted' }, chatContext(chat)) : null,
      ...chatBadges(chat)),
    ...notices(page),
    h('div', { class: 'manage-grid' },
      h('div', { class: 'manage-main' }, membersCard(page)),
      h('div', { class: 'manage-side' }, settingsCard(page), dangerCard(page),
        options.administrator ? linkButton(t('mg.auditOfChat'), `#/chats/${orgId}/manage/audit?chat=${chat.id}`, { kind: 'ghost', iconName: 'book' }) : null))]);
  if (focusSelector) root.querySelector(focusSelector)?.focus();
}

function notices(page) {
  const { chat } = page;
  if (chat.purged) return [notice('error', t('mg.purgedNotice'))];
  const out = [];
  if (chat.deleted_at) {
    const restore = button(t('mg.restore'), { kind: 'primary', iconName: 'back', attrs: { 'data-testid': 'restore-chat' } });
    restore.addEventListener('click', () => act(page, restore, () => api.manage.restore(page.orgId, chat.id), t('mg.restoredDone')));
    out.push(notice('error', t('mg.deletedNotice', { date: formatDate(chat.purge_at) }), h('p', { class: 'notice-actions' }, restore)));
  } else if (chat.state === 'archived') {
    out.push(notice('info', t('mg.archivedNotice')));
  } else if (chat.state === 'read_only_hidden') {
    out.push(notice('info', t('mg.hiddenNotice')));
  }
  out.push(notice('info', chat.kind === 'custom' ? t('mg.customLead') : t('mg.automaticLead')));
  if (chat.same_name > 0) out.push(h('div', { 'data-testid': 'same-name' }, notice('info', t('mg.sameName', { n: chat.same_name }))));
  return out;
}

/**
 * Runs a change, then shows the chat as it is now. A chat edited by someone
 * else meanwhile is reloaded and said so; a change that took the chat out of
 * the person's reach (they revoked their own admin) goes back to the list.
 */
async function act(page, btn, work, done) {
  try {
    const next = await (btn ? busy(btn, t('common.saving'), work) : work());
    if (next === null) {
      page.ctx.navigate(`/chats/${page.orgId}/manage`);
      announce(done);
      return;
    }
    page.chat = next;
    draw(page, 'h1');
    announce(done);
  } catch (ex) {
    await failed(page, ex);
  }
}

async function failed(page, ex) {
  if (ex instanceof ApiError && ex.code === 'chat_changed') {
    page.chat = await api.manage.chat(page.orgId, page.chat.id);
    draw(page, 'h1');
    announce(t('mg.changedElsewhere'), { error: true });
    return;
  }
  announce(ex.text ? ex.text() : t('error.unknown'), { error: true });
}

// ---------------------------------------------------------------- settings

function settingsCard(page) {
  const { chat } = page;
  const id = uid('set');
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('div', { class: 'section-head' },
      h('h2', { id, class: 'section-title' }, t('mg.settings')),
      chat.can_manage ? button(t('mg.edit'), { kind: 'secondary', iconName: 'sliders', attrs: { class: 'btn btn-secondary btn-sm', 'data-testid': 'edit-chat' }, onClick: () => editChat(page) }) : null),
    h('dl', { class: 'manage-facts' },
      h('div', null, h('dt', null, t('mg.name')), h('dd', { 'data-testid': 'chat-title' }, chat.name)),
      h('div', null, h('dt', null, t('mg.description')), h('dd', null, chat.description || h('span', { class: 'muted' }, t('mg.noDescription')))),
      h('div', null, h('dt', null, t('mg.posting')), h('dd', null, chat.announcement_only ? t('mg.postingAdmins') : t('mg.postingAll')))),
    chat.name_overridden ? h('p', { class: 'muted small' }, t('mg.nameKept')) : null);
}

async function editChat(page) {
  const { chat } = page;
  const form = chatForm(chat);
  await openDialog({
    title: t('mg.editTitle'),
    build: (body) => body.append(form.el),
    submitLabel: t('common.save'),
    onSubmit: async () => {
      const value = form.value();
      if (!value) return false;
      try {
        const next = await api.manage.edit(page.orgId, chat.id, { version: chat.version, ...value });
        if (next) page.chat = next;
        draw(page, 'h1');
        announce(t('mg.saved'));
      } catch (ex) {
        if (ex.code !== 'chat_changed') throw ex;
        await failed(page, ex);
      }
      return true;
    },
  });
}

// ---------------------------------------------------------------- members

function reason(m) {
  if (m.source === 'roster') return t('mg.fromRoster', { why: m.reasons || '—' });
  return t('mg.byHand');
}

function memberRow(page, m) {
  const { chat } = page;
  const who = fullName(m);
  const actions = [];
  if (chat.can_manage && m.status !== 'removed_by_hand') {
    const toggle = button(m.admin ? t('mg.unmakeAdmin') : t('mg.makeAdmin'), {
      kind: 'ghost',
      iconName: m.admin ? 'x' : 'key',
      attrs: { class: 'btn btn-ghost btn-sm', 'aria-label': t(m.admin ? 'mg.unmakeAdminFor' : 'mg.makeAdminFor', { name: who }), 'data-testid': 'toggle-admin' },
    });
    toggle.addEventListener('click', () => act(page, toggle, () => api.manage.setAdmin(page.orgId, chat.id, m.person, !m.admin),
      t(m.admin ? 'mg.adminUnmade' : 'mg.adminMade', { name: who })));
    const remove = button(t('mg.remove'), {
      kind: 'ghost',
      iconName: 'trash',
      attrs: { class: 'btn btn-ghost btn-sm btn-danger-text', 'aria-label': t('mg.removeFor', { name: who }), 'data-testid': 'remove-member' },
    });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('mg.removeTitle'),
        text: t(m.source === 'roster' ? 'mg.removeRosterText' : 'mg.removeText', { name: who, chat: chat.name }),
        confirmLabel: t('mg.remove'),
        danger: true,
      });
      if (ok) act(page, null, () => api.manage.removeMember(page.orgId, chat.id, m.person), t('mg.removed', { name: who }));
    });
    actions.push(toggle, remove);
  } else if (chat.can_manage) {
    const back = button(t('mg.bringBack'), {
      kind: 'secondary',
      iconName: 'plus',
      attrs: { class: 'btn btn-secondary btn-sm', 'aria-label': t('mg.bringBackFor', { name: who }) },
    });
    back.addEventListener('click', () => act(page, back, () => api.manage.addMembers(page.orgId, chat.id, [m.person]), t('mg.broughtBack', { name: who })));
    actions.push(back);
  }
  return h('li', { class: 'member-row', 'data-person': String(m.person), 'data-status': m.status },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(m)),
    h('div', { class: 'member-main' },
      h('span', { class: 'member-name' }, who),
      h('span', { class: 'member-meta' },
        roleChips(m.roles),
        m.admin ? h('span', { class: 'badge badge-admin', 'data-testid': 'admin-badge' }, icon('key'), t('mg.adminBadge')) : null,
        m.status === 'pending' ? h('span', { class: 'badge badge-pending', title: t('mg.pendingHint'), 'data-testid': 'pending-badge' }, icon('clock'), t('mg.pendingBadge')) : null),
      h('span', { class: 'member-why', 'data-testid': 'member-why' }, reason(m),
        m.admin_overridden && m.admin ? ` · ${t('mg.adminByHand')}` : null)),
    actions.length ? h('div', { class: 'member-actions' }, actions) : null);
}

function membersCard(page) {
  const { chat } = page;
  const present = chat.members.filter((m) => m.status !== 'removed_by_hand');
  const removed = chat.members.filter((m) => m.status === 'removed_by_hand');
  const id = uid('mem');
  const add = chat.can_manage
    ? button(t('mg.add'), { kind: 'primary', iconName: 'plus', attrs: { class: 'btn btn-primary btn-sm', 'data-testid': 'add-members' }, onClick: () => addPeople(page) })
    : null;
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('div', { class: 'section-head' },
      h('h2', { id, class: 'section-title' }, t('mg.people'), h('span', { class: 'count' }, String(present.length))),
      add),
    chat.pending_count ? h('p', { class: 'pending-note' }, icon('clock'),
      h('span', null, t('mg.pendingSummary', { n: chat.pending_count }))) : null,
    present.length
      ? h('ul', { class: 'member-list', 'data-testid': 'member-list' }, present.map((m) => memberRow(page, m)))
      : h('p', { class: 'muted' }, t('mg.noMembers')),
    removed.length ? h('details', { class: 'removed-list' },
      h('summary', null, t('mg.removedByHand'), h('span', { class: 'count' }, String(removed.length))),
      h('p', { class: 'muted small' }, t('mg.removedByHandHint')),
      h('ul', { class: 'member-list' }, removed.map((m) => memberRow(page, m)))) : null);
}

// ---------------------------------------------------------------- archive, delete

function dangerCard(page) {
  const { chat, orgId } = page;
  if (!chat.can_manage) return null;
  const id = uid('danger');
  const archived = chat.state === 'archived';
  const archive = button(archived ? t('mg.unarchive') : t('mg.archive'), { kind: 'secondary', iconName: 'archive', attrs: { 'data-testid': 'archive-chat' } });
  archive.addEventListener('click', async () => {
    if (!archived) {
      const ok = await confirmDialog({ title: t('mg.archiveTitle'), text: t('mg.archiveText', { chat: chat.name }), confirmLabel: t('mg.archiveConfirm') });
      if (!ok) return;
    }
    act(page, archive, () => api.manage.archive(orgId, chat.id, !archived), archived ? t('mg.unarchivedDone') : t('mg.archivedDone'));
  });
  const rows = [h('div', { class: 'danger-row' }, h('p', { class: 'muted small' }, t('mg.archiveHint')), archive)];
  if (chat.kind === 'custom') {
    const del = button(t('mg.delete'), { kind: 'danger-outline', iconName: 'trash', attrs: { 'data-testid': 'delete-chat' } });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: t('mg.deleteTitle', { chat: chat.name }), text: t('mg.deleteText'), confirmLabel: t('mg.deleteConfirm'), danger: true });
      if (!ok) return;
      try {
        const next = await busy(del, t('common.saving'), () => api.manage.remove(orgId, chat.id));
        page.chat = next;
        draw(page, 'h1');
        announce(t('mg.deletedDone', { date: formatDate(next.purge_at) }));
      } catch (ex) {
        await failed(page, ex);
      }
    });
    rows.push(h('div', { class: 'danger-row' }, h('p', { class: 'muted small' }, t('mg.deleteHint')), del));
  } else {
    rows.push(h('p', { class: 'muted small' }, t('mg.automaticNoDelete')));
  }
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, t('mg.danger')), ...rows);
}

// ---------------------------------------------------------------- adding people

async function addPeople(page) {
  const { chat, orgId, options } = page;
  const selected = new Map();
  const search = h('input', { type: 'search', class: 'input', maxlength: '100', autocomplete: 'off', 'data-testid': 'candidate-search' });
  const role = h('select', { class: 'input', 'data-testid': 'candidate-role' },
    h('option', { value: '' }, t('mg.addRoleAll')), ROLES.map((r) => h('option', { value: r }, t(`rolesPlural.${r}`))));
  const klass = h('select', { class: 'input', 'data-testid': 'candidate-class' },
    h('option', { value: '' }, t('mg.classAll')), options.classes.map((c) => h('option', { value: String(c.id) }, c.name)));
  const subject = h('select', { class: 'input', 'data-testid': 'candidate-subject' },
    h('option', { value: '' }, t('mg.addSubjectAll')), options.subjects.map((s) => h('option', { value: String(s.id) }, s.name)));
  const quick = h('div', { class: 'quick-picks', hidden: true });
  const status = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite', 'data-testid': 'candidate-status' });
  const selectAll = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'select-all' });
  const list = h('ul', { class: 'candidate-list', 'data-testid': 'candidate-list' });
  const chosen = h('p', { class: 'chosen', 'data-testid': 'chosen' });
  let shown = [];
  let submit;

  const selectable = (p) => !p.member || p.member === 'removed_by_hand';
  function refreshChosen() {
    chosen.textContent = t('mg.selected', { n: selected.size });
    if (submit) submit.querySelector('.btn-label').textContent = selected.size ? t('mg.addSubmitN', { n: selected.size }) : t('mg.addSubmit');
    const open = shown.filter(selectable);
    selectAll.textContent = t('mg.selectAll', { n: open.length });
    selectAll.hidden = open.length === 0;
  }

  function row(p) {
    const id = uid('cand');
    const free = selectable(p);
    const box = h('input', { type: 'checkbox', id, checked: selected.has(p.id) || !free, disabled: !free, 'data-person': String(p.id) });
    box.addEventListener('change', () => {
      if (box.checked) selected.set(p.id, p);
      else selected.delete(p.id);
      refreshChosen();
    });
    const note = p.member && p.member !== 'removed_by_hand' ? t('mg.alreadyIn')
      : p.member === 'removed_by_hand' ? t('mg.wasRemoved')
        : !p.linked ? t('mg.notLinked') : null;
    return h('li', null, h('label', { class: ['candidate', free ? null : 'is-member'], for: id },
      box,
      h('span', { class: 'candidate-main' },
        h('span', { class: 'candidate-name' }, fullName(p)),
        h('span', { class: 'candidate-meta' }, p.roles.map((r) => roleName(r)).join(', '),
          p.classes.length ? ` · ${p.classes.join(', ')}` : ''),
        note ? h('span', { class: ['candidate-note', !p.linked && free ? 'is-pending' : null] }, note) : null)));
  }

  let token = 0;
  async function load() {
    const my = ++token;
    status.textContent = t('common.loading');
    let res;
    try {
      res = await api.manage.candidates(orgId, { q: search.value.trim(), role: role.value, class: klass.value, subject: subject.value, chat: chat.id });
    } catch (ex) {
      if (my === token) status.textContent = ex.text ? ex.text() : t('error.unknown');
      return;
    }
    if (my !== token) return;
    shown = res.people;
    clear(list).append(...shown.map(row));
    status.textContent = shown.length
      ? (res.truncated ? t('mg.resultsTruncated', { n: shown.length }) : t('mg.results', { n: shown.length }))
      : t('mg.noResults');
    refreshChosen();
    return shown;
  }

  function drawQuick() {
    clear(quick);
    const c = options.classes.find((x) => String(x.id) === klass.value);
    quick.hidden = !c;
    if (!c) return;
    const pick = (r, label) => {
      const b = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-quick': r }, label);
      b.addEventListener('click', async () => {
        role.value = r;
        const people = await load();
        for (const p of people || []) if (selectable(p)) selected.set(p.id, p);
        clear(list).append(...shown.map(row));
        refreshChosen();
      });
      return b;
    };
    quick.append(h('span', { class: 'quick-label' }, t('mg.quick', { class: c.name })),
      pick('student', t('mg.quickStudents')), pick('guardian', t('mg.quickParents')), pick('teacher', t('mg.quickTeachers')));
  }

  selectAll.addEventListener('click', () => {
    for (const p of shown) if (selectable(p)) selected.set(p.id, p);
    clear(list).append(...shown.map(row));
    refreshChosen();
  });
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(load, 250);
  });
  for (const s of [role, subject]) s.addEventListener('change', load);
  klass.addEventListener('change', () => {
    drawQuick();
    load();
  });

  await openDialog({
    title: t('mg.addTitle'),
    submitLabel: t('mg.addSubmit'),
    build: (body) => {
      body.closest('dialog')?.classList.add('dialog-wide');
      submit = body.closest('form')?.querySelector('button[type="submit"]');
      const searchField = field({ label: t('mg.addSearch'), input: search });
      append(body, [
        options.administrator ? null : h('p', { class: 'muted small' }, t('mg.reachHint')),
        h('div', { class: 'candidate-filters' }, searchField.wrap,
          field({ label: t('mg.addRole'), input: role }).wrap,
          field({ label: t('mg.addClass'), input: klass }).wrap,
          options.subjects.length ? field({ label: t('mg.addSubject'), input: subject }).wrap : null),
        quick,
        h('div', { class: 'candidate-bar' }, status, selectAll),
        list,
        chosen]);
      load();
    },
    onSubmit: async ({ showError }) => {
      if (!selected.size) {
        showError(t('mg.addNobody'));
        return false;
      }
      const people = [...selected.values()];
      const next = await api.manage.addMembers(orgId, chat.id, people.map((p) => p.id));
      const pending = people.filter((p) => !p.linked).length;
      page.chat = next;
      draw(page, 'h1');
      announce(pending ? t('mg.addedPending', { n: people.length, p: pending }) : t('mg.added', { n: people.length }));
      return true;
    },
  });
}
