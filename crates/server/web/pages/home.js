// @ts-check
// Home: a greeting, the person's roles in each organisation, whether chats are
// available there, and for administrators the roster and the chats switch.

import { api } from '../api.js';
import { h, icon } from '../dom.js';
import { t, lang, kindName, ROLES } from '../i18n.js';
import { roleChips, confirmDialog, announce, notice, formError } from '../ui.js';

export const name = 'home';

function greeting(me) {
  const p = me.person;
  const onlyStudent = me.roles.length > 0 && me.roles.every((r) => r.role === 'student');
  if (onlyStudent) return t('home.helloChild', { name: p.first_name });
  const name = lang() === 'ru' ? [p.first_name, p.middle_name].filter(Boolean).join(' ') : p.first_name;
  return t('home.hello', { name });
}

/** Roles grouped by organisation, schools first. */
export function byOrg(roles) {
  const orgs = new Map();
  for (const r of roles) {
    if (!orgs.has(r.org_id)) {
      orgs.set(r.org_id, { id: r.org_id, name: r.org_name, kind: r.org_kind, chats: r.chats_enabled, roles: [] });
    }
    orgs.get(r.org_id).roles.push(r.role);
  }
  for (const o of orgs.values()) o.roles.sort((a, b) => ROLES.indexOf(a) - ROLES.indexOf(b));
  // Schools first: that is where most of the portal happens.
  const rank = (o) => (o.kind === 'general_education' ? 0 : 1);
  return [...orgs.values()].sort((a, b) => rank(a) - rank(b));
}

function chatStatus(org) {
  let state;
  let title;
  let hint;
  if (org.kind === 'general_education' && org.chats) {
    state = 'on';
    title = t('home.chatsOn');
    hint = t('home.chatsOnHint');
  } else if (org.kind === 'general_education') {
    state = 'off';
    title = t('home.chatsOff');
    hint = t('home.chatsOffHint');
  } else {
    state = 'na';
    title = t('home.chatsNotHere');
    hint = t('home.chatsNotHereHint');
  }
  return h('div', { class: ['chat-status', `chat-${state}`], 'data-testid': 'chat-status' },
    h('span', { class: 'chat-status-icon' }, icon(state === 'on' ? 'chat' : 'info')),
    h('div', null, h('p', { class: 'chat-status-title' }, title), h('p', { class: 'chat-status-hint' }, hint)));
}

function chatsSwitch(org, ctx) {
  const labelId = `chats-label-${org.id}`;
  const stateEl = h('span', { class: 'switch-state', 'aria-hidden': 'true' },
    org.chats ? t('home.chatsModuleOn') : t('home.chatsModuleOff'));
  const err = formError();
  const sw = h('button', {
    type: 'button', class: 'switch', role: 'switch', 'aria-checked': String(org.chats),
    'aria-labelledby': labelId, 'data-testid': 'chats-switch',
  }, h('span', { class: 'switch-thumb' }));
  sw.addEventListener('click', async () => {
    err.show('');
    const enable = !org.chats;
    const ok = await confirmDialog({
      title: enable ? t('home.chatsEnableTitle') : t('home.chatsDisableTitle'),
      text: enable ? t('home.chatsEnableText', { org: org.name }) : t('home.chatsDisableText', { org: org.name }),
      confirmLabel: enable ? t('home.chatsEnable') : t('home.chatsDisable'),
      danger: !enable,
    });
    if (!ok) return;
    try {
      sw.disabled = true;
      const view = await api.setChats(org.id, enable);
      for (const r of ctx.session.me.roles) if (r.org_id === org.id) r.chats_enabled = view.chats_enabled;
      await ctx.rerender();
      announce(t('home.chatsSaved', { state: view.chats_enabled ? t('home.chatsModuleOn') : t('home.chatsModuleOff') }));
      (/** @type {HTMLElement | null | undefined} */ (document.querySelector(`[data-org="${org.id}"] .switch`)))?.focus();
    } catch (ex) {
      sw.disabled = false;
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  return h('div', { class: 'switch-row' },
    h('div', { class: 'switch-text' },
      h('span', { id: labelId, class: 'switch-label' }, t('home.chatsModule')),
      stateEl),
    sw, err.el);
}

function orgCard(org, ctx) {
  const isAdmin = org.roles.includes('administrator');
  const info = h('div', { class: 'org-info' },
    h('div', { class: 'org-head' },
      h('span', { class: 'org-icon', 'aria-hidden': 'true' }, icon('school')),
      h('div', null,
        h('h2', { id: `org-${org.id}`, class: 'org-name' }, org.name),
        h('p', { class: 'org-kind' }, kindName(org.kind)))),
    h('div', { class: 'org-roles' },
      h('span', { class: 'muted small' }, org.roles.length > 1 ? t('home.yourRolesMany') : t('home.yourRoles')),
      roleChips(org.roles)),
    chatStatus(org));
  const body = h('div', { class: 'org-body' }, info);
  const card = h('article', { class: ['card', 'org-card', isAdmin ? 'is-admin' : null], 'data-org': String(org.id), 'aria-labelledby': `org-${org.id}` }, body);
  if (isAdmin) {
    const tools = h('div', { class: 'admin-tools', role: 'group', 'aria-label': t('home.admin') },
      h('a', { class: 'tile', href: `#/roster/${org.id}`, 'data-testid': 'roster-link' },
        h('span', { class: 'tile-icon', 'aria-hidden': 'true' }, icon('users')),
        h('span', { class: 'tile-text' },
          h('span', { class: 'tile-title' }, t('home.roster')),
          h('span', { class: 'tile-hint' }, t('home.rosterHint'))),
        icon('chevron', 'tile-chevron')));
    if (org.kind === 'general_education') tools.append(chatsSwitch(org, ctx));
    body.append(tools);
    if (org.kind === 'general_education') sharedPartaIds(org, body);
  }
  return card;
}

/**
 * Parta IDs shared by a student and somebody else (made before the family
 * rules): listed for the administrator with what to do, never changed here.
 */
async function sharedPartaIds(org, body) {
  let shared;
  try {
    shared = await api.sharedPartaIds(org.id);
  } catch {
    return;
  }
  if (!shared.length) return;
  const who = (h_) => (h_.student ? t('home.sharedStudent', { name: h_.name }) : h_.name);
  body.append(h('div', { 'data-testid': 'shared-parta-ids' }, notice('warning', t('home.sharedTitle', { n: shared.length }),
    h('ul', { class: 'shared-list' }, shared.map((s) => h('li', null,
      s.phone_masked ? `${s.phone_masked}: ` : '', s.holders.map(who).join(', ')))),
    h('p', { class: 'muted small' }, t('home.sharedHint')))));
}

export async function render(ctx) {
  const me = ctx.session.me;
  const orgs = byOrg(me.roles);
  return h('div', { class: 'container' },
    h('div', { class: 'page-title home-title' },
      h('h1', { tabindex: '-1', id: 'page-h1' }, greeting(me)),
      h('p', { class: 'page-sub' }, t('home.lead'))),
    orgs.length
      ? h('section', { class: 'org-grid', 'aria-label': t('home.orgs') }, orgs.map((o) => orgCard(o, ctx)))
      : notice('info', t('home.noRoles')));
}
