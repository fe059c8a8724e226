// @ts-check
// A person's card: roles, classes, parents or children; edit the name and
// roles, link and unlink parents, move a student to another class.

import { api } from '../api.js';
import { h, icon, clear, fullName, initials, rolesOf, uid } from '../dom.js';
import { t, ROLES } from '../i18n.js';
import {
  breadcrumbs, button, field, openDialog, confirmDialog, announce, roleChips, formError, busy,
} from '../ui.js';
import { personForm, passwordBadge } from './roster.js';
import { groupLabel } from './class.js';
import '../safeguarding.js';

export const name = 'person';

export async function render(ctx) {
  const { org: orgId, id } = ctx.params;
  const [org, card] = await Promise.all([api.org(orgId), api.person(orgId, id)]);
  ctx.setHeaderOrg(org.name);
  const roles = rolesOf(card).sort((a, b) => ROLES.indexOf(a) - ROLES.indexOf(b));
  const isStudent = roles.includes('student');
  const isGuardian = roles.includes('guardian');

  const head = h('div', { class: 'card person-card' },
    h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, initials(card)),
    h('div', { class: 'person-card-main' },
      h('h1', { tabindex: '-1', id: 'page-h1', class: 'person-card-name' }, fullName(card)),
      roleChips(roles),
      h('dl', { class: 'facts' },
        h('div', null, h('dt', null, t('person.login')),
          h('dd', null, card.login ? h('code', { class: 'login' }, card.login) : h('span', { class: 'muted' }, t('roster.noLogin')))),
        h('div', null, h('dt', null, t('person.password')), h('dd', null, passwordBadge(card))))),
    h('div', { class: 'person-card-actions' },
      button(t('person.edit'), { kind: 'secondary', iconName: 'edit', onClick: () => edit(ctx, card), attrs: { class: 'btn btn-secondary', 'data-testid': 'edit-person' } })));

  const left = [classesSection(orgId, card)];
  if (isStudent) left.push(await moveSection(ctx, card));
  const right = [];
  if (isStudent || card.guardians.length) right.push(relatives(ctx, card, 'parents'));
  if (isGuardian || card.children.length) right.push(relatives(ctx, card, 'children'));
  if (roles.some((r) => ['administrator', 'teacher', 'other_staff'].includes(r))) {
    right.push(await safeguardingSection(ctx, orgId, card));
  }
  const sections = [h('div', { class: 'stack' }, left), right.length ? h('div', { class: 'stack' }, right) : null];

  return h('div', { class: 'container' },
    breadcrumbs([
      { label: t('header.home'), href: '#/' },
      { label: t('roster.title'), href: `#/roster/${orgId}` },
      { label: fullName(card) },
    ]),
    head,
    h('div', { class: 'person-sections' }, sections));
}

function sectionCard(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, title), ...children);
}

/** The director names staff responsible for safeguarding: they review reports. */
async function safeguardingSection(ctx, orgId, card) {
  const staff = await api.safeguarding.staff(orgId).catch(() => []);
  const named = staff.some((p) => p.person_id === card.id);
  return sectionCard(t('sg.staff'),
    h('p', { 'data-testid': 'safeguarding-state' }, named ? t('person.safeguardingYes') : t('person.safeguardingNo')),
    h('p', { class: 'section-actions' }, button(named ? t('person.safeguardingOff') : t('person.safeguardingOn'), {
      kind: 'secondary',
      attrs: { 'data-testid': 'safeguarding-toggle' },
      onClick: async () => {
        try {
          await api.safeguarding.setStaff(orgId, card.id, !named);
          ctx.rerender();
        } catch (e) {
          announce(e.text ? e.text() : t('error.unknown'), { error: true });
        }
      },
    })));
}

function classesSection(orgId, card) {
  const rel = (c) => {
    if (c.relation === 'student') return t('person.relStudent');
    if (c.relation === 'class_teacher') return t('person.relClassTeacher');
    return [t('person.relTeacher'), c.subject, c.group_name ? groupLabel(c.group_name) : null].filter(Boolean).join(' · ');
  };
  return sectionCard(t('person.classes'),
    card.classes.length
      ? h('ul', { class: 'link-rows', 'data-testid': 'person-classes' }, card.classes.map((c) => h('li', null,
        h('a', { class: 'class-chip', href: `#/roster/${orgId}/class/${c.class_id}` }, c.class_name),
        h('span', { class: 'link-row-text' }, rel(c)))))
      : h('p', { class: 'muted' }, t('person.noClasses')));
}

/** Parents of a student, or children of a parent, with add and remove. */
function relatives(ctx, card, kind) {
  const orgId = ctx.params.org;
  const parents = kind === 'parents';
  const people = parents ? card.guardians : card.children;
  const pair = (other) => (parents ? [other.id, card.id] : [card.id, other.id]);
  const err = formError();

  const list = people.length
    ? h('ul', { class: 'relative-list', 'data-testid': `person-${kind}` }, people.map((p) => h('li', { class: 'relative' },
      h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(p)),
      h('a', { class: 'person-link', href: `#/roster/${orgId}/person/${p.id}` }, fullName(p)),
      h('button', {
        type: 'button', class: 'btn btn-ghost btn-sm',
        'aria-label': t('person.removeLink', { name: fullName(p) }),
        onclick: async () => {
          const [g, s] = parents ? [p, card] : [card, p];
          const ok = await confirmDialog({
            title: t('person.removeTitle'),
            text: t('person.removeText', { guardian: fullName(g), student: fullName(s) }),
            confirmLabel: t('common.remove'),
            danger: true,
          });
          if (!ok) return;
          try {
            await api.removeGuardianship(orgId, ...pair(p));
            await ctx.rerender();
            announce(t('person.linkRemoved', { name: fullName(p) }));
          } catch (ex) {
            err.show(ex.text ? ex.text() : t('error.unknown'));
          }
        },
      }, icon('x'), h('span', { class: 'btn-label' }, t('common.remove'))))))
    : h('p', { class: 'muted' }, parents ? t('person.noParents') : t('person.noChildren'));

  const finder = personFinder({
    orgId,
    role: parents ? 'guardian' : 'student',
    label: parents ? t('person.findParent') : t('person.findChild'),
    exclude: new Set([card.id, ...people.map((p) => p.id)]),
    addLabel: parents ? t('person.addParent') : t('person.addChild'),
    onPick: async (p) => {
      err.show('');
      try {
        await api.addGuardianship(orgId, ...pair(p));
        await ctx.rerender();
        announce(t('person.linkAdded', { name: fullName(p) }));
      } catch (ex) {
        err.show(ex.text ? ex.text() : t('error.unknown'));
      }
    },
  });

  return sectionCard(parents ? t('person.parents') : t('person.children'), list, err.el,
    h('details', { class: 'adder' },
      h('summary', { class: 'btn btn-secondary btn-sm' }, icon('plus'),
        h('span', null, parents ? t('person.addParent') : t('person.addChild'))),
      finder));
}

/** A search box listing matching people, each with an "add" button. */
function personFinder({ orgId, role, label, exclude, addLabel, onPick }) {
  const input = h('input', { type: 'search', class: 'input', maxlength: '100', autocomplete: 'off', spellcheck: 'false' });
  const f = field({ label, input, hint: t('person.findHint') });
  const results = h('ul', { class: 'finder-results', 'aria-live': 'polite' });
  let timer;
  let token = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      const my = ++token;
      if (q.length < 2) {
        clear(results);
        return;
      }
      let rows;
      try {
        rows = await api.people(orgId, { q, role, limit: 10 });
      } catch (ex) {
        rows = [];
        if (my === token) clear(results).append(h('li', { class: 'field-error' }, ex.text()));
        return;
      }
      if (my !== token) return;
      clear(results);
      const found = rows.filter((p) => !exclude.has(p.id));
      if (!found.length) results.append(h('li', { class: 'muted small' }, t('person.nothingFound')));
      for (const p of found) {
        const add = h('button', {
          type: 'button', class: 'btn btn-secondary btn-sm',
          'aria-label': `${addLabel}: ${fullName(p)}`,
        }, icon('plus'), h('span', { class: 'btn-label' }, t('common.add')));
        add.addEventListener('click', () => busy(add, null, () => onPick(p)));
        results.append(h('li', { class: 'finder-row' },
          h('span', { class: 'finder-name' }, fullName(p), p.login ? h('code', { class: 'login' }, p.login) : null),
          add));
      }
    }, 250);
  });
  return h('div', { class: 'finder' }, f.wrap, results);
}

async function moveSection(ctx, card) {
  const orgId = ctx.params.org;
  const classes = await api.classes(orgId);
  const currentClass = card.classes.find((c) => c.relation === 'student');
  const select = h('select', { class: 'input', 'data-testid': 'move-class' },
    classes.map((k) => h('option', { value: String(k.id), selected: currentClass && k.id === currentClass.class_id }, k.name)));
  const f = field({ label: t('class.moveTo'), input: select });
  const err = formError();
  const save = button(t('class.moveSubmit'), { kind: 'secondary', type: 'submit', iconName: 'move' });
  const form = h('form', { class: 'inline-form', novalidate: true }, f.wrap, save, err.el);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const target = classes.find((k) => String(k.id) === select.value);
    if (!target || (currentClass && target.id === currentClass.class_id)) return;
    try {
      await busy(save, t('common.saving'), () => api.moveStudent(orgId, card.id, target.id));
      await ctx.rerender();
      announce(t('class.moved', { name: fullName(card), class: target.name }));
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  const card2 = sectionCard(t('person.move'), form);
  card2.classList.add('section-move');
  return card2;
}

async function edit(ctx, card) {
  const form = personForm(card);
  await openDialog({
    title: t('person.editTitle'),
    build: (body) => body.append(form.el),
    submitLabel: t('common.save'),
    onSubmit: async () => {
      const v = form.value();
      if (!v) return false;
      await api.editPerson(ctx.params.org, card.id, v);
      await ctx.rerender();
      announce(t('person.saved'));
      return true;
    },
  });
}
