// @ts-check
// The school roster for administrators: classes by grade, and people with a
// search by name and role.

import { api } from '../api.js';
import '../datarights.js';
import { h, icon, clear, fullName, initials, rolesOf, uid } from '../dom.js';
import { t, plural, roleName, ROLES } from '../i18n.js';
import {
  pageTitle, breadcrumbs, notice, button, field, textInput, openDialog, announce, roleChips,
} from '../ui.js';

export const name = 'roster';

const CLASS_NAME = /^\s*(\d{1,2})[\s-]*[\p{L}\p{N}][\p{L}\p{N} -]{0,14}$/u;
const LOGIN = /^[\p{L}\p{N}._@-]{3,64}$/u;

export function validClassName(raw) {
  const m = CLASS_NAME.exec(raw);
  return Boolean(m) && Number(m[1]) >= 1 && Number(m[1]) <= 11;
}

export function adminOrgs(me) {
  const seen = new Map();
  for (const r of me.roles) if (r.role === 'administrator') seen.set(r.org_id, r);
  return [...seen.values()];
}

export async function render(ctx) {
  const { params, session, navigate } = ctx;
  if (params.tab === 'pick') {
    const orgs = adminOrgs(session.me);
    if (orgs.length === 1) {
      navigate(`/roster/${orgs[0].org_id}`, { replace: true });
      return h('div');
    }
    return pickOrg(orgs);
  }
  const org = await api.org(params.org);
  ctx.setHeaderOrg(org.name);
  const body = params.tab === 'people' ? await peopleTab(ctx, org) : await classesTab(ctx, org);
  return h('div', { class: 'container' },
    breadcrumbs([{ label: t('header.home'), href: '#/' }, { label: t('roster.title') }]),
    pageTitle(t('roster.title'), org.name),
    tabs(org.id, params.tab),
    body);
}

function pickOrg(orgs) {
  return h('div', { class: 'container narrow' },
    pageTitle(t('roster.pickOrg'), orgs.length ? t('roster.pickOrgLead') : null),
    orgs.length
      ? h('ul', { class: 'link-list' }, orgs.map((o) => h('li', null,
        h('a', { class: 'tile', href: `#/roster/${o.org_id}` },
          h('span', { class: 'tile-icon', 'aria-hidden': 'true' }, icon('school')),
          h('span', { class: 'tile-text' }, h('span', { class: 'tile-title' }, o.org_name)),
          icon('chevron', 'tile-chevron')))))
      : notice('info', t('roster.notAdmin')));
}

export function tabs(orgId, current) {
  const tab = (id, href, label, iconName) => h('a', {
    class: 'tab', href, 'aria-current': current === id ? 'page' : null,
  }, icon(iconName), h('span', null, label));
  return h('nav', { class: 'tabs', 'aria-label': t('roster.sections') },
    tab('classes', `#/roster/${orgId}`, t('roster.tabClasses'), 'school'),
    tab('people', `#/roster/${orgId}/people`, t('roster.tabPeople'), 'users'),
    tab('messaging', `#/roster/${orgId}/messaging`, t('dm.tab'), 'chat'),
    tab('data', `#/roster/${orgId}/data`, t('dr.tab'), 'archive'),
    tab('quiet', `#/roster/${orgId}/quiet`, t('quiet.tab'), 'clock'));
}

// ---------------------------------------------------------------- classes

async function classesTab(ctx, org) {
  const classes = await api.classes(org.id);
  const students = classes.reduce((n, c) => n + c.students, 0);
  const toolbar = h('div', { class: 'toolbar' },
    h('p', { class: 'toolbar-text', 'data-testid': 'roster-summary' },
      t('roster.summary', { classes: plural('classes', classes.length), students: plural('students', students) })),
    button(t('roster.addClass'), { kind: 'primary', iconName: 'plus', onClick: () => addClass(ctx, org) }));
  if (!classes.length) return h('div', null, toolbar, notice('info', t('roster.noClasses')));

  const grades = new Map();
  for (const c of classes) {
    if (!grades.has(c.grade)) grades.set(c.grade, []);
    grades.get(c.grade).push(c);
  }
  const groups = [...grades.entries()].map(([grade, list]) => {
    const id = uid('grade');
    return h('section', { class: 'grade', 'aria-labelledby': id },
      h('h2', { id, class: 'grade-title' }, t('roster.grade', { n: grade })),
      h('ul', { class: 'class-grid' }, list.map((c) => h('li', null, classCard(org.id, c)))));
  });
  return h('div', null, toolbar, ...groups);
}

function classCard(orgId, c) {
  return h('a', { class: 'class-card', href: `#/roster/${orgId}/class/${c.id}`, 'data-class': c.name },
    h('span', { class: 'class-card-name' }, c.name),
    h('span', { class: 'class-card-teacher' },
      c.class_teacher_name
        ? [h('span', { class: 'sr-only' }, `${t('roster.classTeacher')}: `), c.class_teacher_name]
        : h('span', { class: 'muted' }, t('roster.noClassTeacher'))),
    h('span', { class: 'class-card-count' }, icon('users'), plural('students', c.students)));
}

async function addClass(ctx, org) {
  const input = textInput({ placeholder: '5А', maxlength: '20', 'data-testid': 'class-name' });
  const f = field({ label: t('roster.className'), input, hint: t('roster.classNameHint') });
  await openDialog({
    title: t('roster.addClassTitle'),
    build: (body) => body.append(f.wrap),
    submitLabel: t('roster.addClass'),
    onSubmit: async () => {
      const name = input.value.trim();
      if (!validClassName(name)) {
        f.setError(t('roster.classNameBad'));
        input.focus();
        return false;
      }
      f.setError('');
      const created = await api.createClass(org.id, name);
      announce(t('roster.classCreated', { name: created.name }));
      ctx.navigate(`/roster/${org.id}/class/${created.id}`);
      return true;
    },
  });
}

// ---------------------------------------------------------------- people

const PAGE = 50;

async function peopleTab(ctx, org) {
  const q = ctx.query.get('q') || '';
  const role = ROLES.includes(ctx.query.get('role')) ? ctx.query.get('role') : '';

  const search = h('input', {
    type: 'search', class: 'input', value: q, maxlength: '100', placeholder: t('roster.searchPlaceholder'),
    autocomplete: 'off', spellcheck: 'false', 'data-testid': 'people-search',
  });
  const searchField = field({ label: t('roster.searchLabel'), input: search });
  searchField.wrap.classList.add('grow');
  const select = h('select', { class: 'input', 'data-testid': 'people-role' },
    h('option', { value: '' }, t('roster.allRoles')),
    ROLES.map((r) => h('option', { value: r, selected: r === role }, t(`rolesPlural.${r}`))));
  const roleField = field({ label: t('roster.roleLabel'), input: select });
  const form = h('form', { class: 'filters', role: 'search', novalidate: true },
    searchField.wrap, roleField.wrap,
    button(t('common.search'), { kind: 'secondary', type: 'submit', iconName: 'search' }));

  const count = h('p', { class: 'toolbar-text', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'people-list', 'data-testid': 'people-list' });
  const more = button(t('common.more'), { kind: 'secondary', attrs: { class: 'btn btn-secondary more' } });
  const moreWrap = h('div', { class: 'more-wrap' }, more);

  let offset = 0;
  let shown = 0;
  let token = 0;
  async function load(reset) {
    const my = ++token;
    if (reset) offset = 0;
    let rows;
    try {
      rows = await api.people(org.id, { q: search.value.trim(), role: select.value, limit: PAGE, offset });
    } catch (ex) {
      if (my !== token) return;
      clear(list).append(h('li', null, notice('error', ex.text ? ex.text() : t('error.unknown'))));
      return;
    }
    if (my !== token) return;
    if (reset) {
      clear(list);
      shown = 0;
    }
    for (const p of rows) list.append(personRow(org.id, p));
    shown += rows.length;
    offset += rows.length;
    moreWrap.hidden = rows.length < PAGE;
    count.textContent = shown ? t('roster.found', { n: shown }) : '';
    if (!shown) list.append(h('li', { class: 'empty' }, t('roster.noPeople')));
  }

  function syncHash() {
    const qs = new URLSearchParams();
    if (search.value.trim()) qs.set('q', search.value.trim());
    if (select.value) qs.set('role', select.value);
    const s = qs.toString();
    history.replaceState(null, '', `#/roster/${org.id}/people${s ? `?${s}` : ''}`);
  }

  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { syncHash(); load(true); }, 250);
  });
  select.addEventListener('change', () => { syncHash(); load(true); });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(debounce);
    syncHash();
    load(true);
  });
  more.addEventListener('click', () => load(false));

  await load(true);
  return h('div', null,
    h('div', { class: 'toolbar' }, count,
      button(t('roster.addPerson'), { kind: 'primary', iconName: 'plus', onClick: () => addPerson(ctx, org) })),
    form, list, moreWrap);
}

export function personRow(orgId, p, extra) {
  const roles = rolesOf(p);
  return h('li', { class: 'person-row' },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(p)),
    h('div', { class: 'person-main' },
      h('a', { class: 'person-name', href: `#/roster/${orgId}/person/${p.id}` }, fullName(p)),
      h('div', { class: 'person-meta' },
        roleChips(roles),
        p.login ? h('code', { class: 'login' }, p.login) : h('span', { class: 'muted small' }, t('roster.noLogin')),
        passwordBadge(p))),
    extra || null);
}

export function passwordBadge(p) {
  return p.has_password
    ? h('span', { class: 'badge badge-ok' }, icon('check'), t('roster.hasPassword'))
    : h('span', { class: 'badge' }, t('roster.noPassword'));
}

/** The fields of a person; `roles` are checkboxes. Used to add and to edit. */
export function personForm(person = {}, { withLogin = false } = {}) {
  const last = textInput({ value: person.last_name || '', autocomplete: 'off', 'data-testid': 'last-name' });
  const first = textInput({ value: person.first_name || '', autocomplete: 'off', 'data-testid': 'first-name' });
  const middle = textInput({ value: person.middle_name || '', autocomplete: 'off', 'data-testid': 'middle-name' });
  const login = textInput({ autocapitalize: 'none', spellcheck: 'false', 'data-testid': 'new-login' });
  const fLast = field({ label: t('person.lastName'), input: last });
  const fFirst = field({ label: t('person.firstName'), input: first });
  const fMiddle = field({ label: t('person.middleName'), input: middle, optional: true });
  const fLogin = field({ label: t('person.loginField'), input: login, hint: t('person.loginHint') });
  const current = new Set(person.roles ? rolesOf(person) : []);
  const boxes = ROLES.map((r) => h('input', { type: 'checkbox', value: r, checked: current.has(r), id: uid('role') }));
  const rolesErr = h('p', { class: 'field-error', hidden: true, id: uid('err') });
  const fieldset = h('fieldset', { class: 'field checks', 'aria-describedby': rolesErr.id },
    h('legend', { class: 'field-label' }, t('person.rolesField')),
    h('div', { class: 'check-grid' }, boxes.map((b) => h('label', { class: 'check', for: b.id }, b, h('span', null, roleName(b.value))))),
    rolesErr);
  const el = h('div', { class: 'form-grid' }, fLast.wrap, fFirst.wrap, fMiddle.wrap, withLogin ? fLogin.wrap : null, fieldset);

  return {
    el,
    /** Returns the form's value, or null after marking what is missing. */
    value() {
      const v = {
        last_name: last.value.trim(),
        first_name: first.value.trim(),
        middle_name: middle.value.trim() || null,
        roles: boxes.filter((b) => b.checked).map((b) => b.value),
      };
      if (withLogin) v.login = login.value.trim();
      let firstBad = null;
      const check = (f, input, ok, msg) => {
        f.setError(ok ? '' : msg);
        if (!ok && !firstBad) firstBad = input;
      };
      check(fLast, last, Boolean(v.last_name), t('common.fillRequired'));
      check(fFirst, first, Boolean(v.first_name), t('common.fillRequired'));
      if (withLogin) check(fLogin, login, LOGIN.test(v.login), t('person.loginBad'));
      rolesErr.hidden = v.roles.length > 0;
      rolesErr.textContent = v.roles.length ? '' : t('person.needRole');
      if (!v.roles.length && !firstBad) firstBad = boxes[0];
      if (firstBad) {
        firstBad.focus();
        return null;
      }
      return v;
    },
  };
}

async function addPerson(ctx, org) {
  const form = personForm({}, { withLogin: true });
  await openDialog({
    title: t('roster.addPersonTitle'),
    build: (body) => body.append(form.el),
    submitLabel: t('common.add'),
    onSubmit: async () => {
      const v = form.value();
      if (!v) return false;
      const card = await api.createPerson(org.id, v);
      announce(t('roster.personCreated', { name: fullName(card) }));
      ctx.navigate(`/roster/${org.id}/person/${card.id}`);
      return true;
    },
  });
}
