// @ts-check
// One class: its class teacher, students with their parents, subjects with
// teachers; rename, change the class teacher, move a student, issue passwords.

import { api } from '../api.js';
import { h, icon, fullName, initials, uid } from '../dom.js';
import { t, plural } from '../i18n.js';
import {
  pageTitle, breadcrumbs, notice, button, field, textInput, openDialog, confirmDialog, announce, busy, formError,
} from '../ui.js';
import { validClassName, passwordBadge } from './roster.js';
import { keepSlip } from '../slipstore.js';

export const name = 'class';

export async function render(ctx) {
  const { org: orgId, id } = ctx.params;
  const [org, detail, teachers] = await Promise.all([
    api.org(orgId),
    api.klass(orgId, id),
    api.people(orgId, { role: 'teacher', limit: 500 }),
  ]);
  ctx.setHeaderOrg(org.name);
  const c = detail.class;
  const sub = [c.year ? t('class.year', { year: c.year }) : null, plural('students', detail.students.length)]
    .filter(Boolean).join(' · ');

  const actions = h('div', { class: 'title-actions' },
    button(t('class.rename'), { kind: 'secondary', iconName: 'edit', onClick: () => rename(ctx, c) }),
    button(t('class.issue'), { kind: 'primary', iconName: 'key', onClick: () => issue(ctx, c), attrs: { class: 'btn btn-primary', 'data-testid': 'issue-passwords' } }));

  return h('div', { class: 'container' },
    breadcrumbs([
      { label: t('header.home'), href: '#/' },
      { label: t('roster.title'), href: `#/roster/${orgId}` },
      { label: c.name },
    ]),
    h('div', { class: 'title-row' }, pageTitle(c.name, sub), actions),
    h('div', { class: 'two-col' },
      h('div', { class: 'col-main' }, studentsSection(ctx, detail)),
      h('div', { class: 'col-side' },
        classTeacherCard(ctx, c, teachers),
        subjectsSection(orgId, detail.sections))));
}

/** "Группа 1" for a bare number, the group's own name otherwise. */
export function groupLabel(name) {
  return /^\d+$/.test(name) ? t('class.groupN', { n: name }) : name;
}

function personLink(orgId, p, cls = '') {
  return h('a', { class: ['person-link', cls], href: `#/roster/${orgId}/person/${p.id}` }, fullName(p));
}

function studentsSection(ctx, detail) {
  const orgId = ctx.params.org;
  const id = uid('sec');
  const list = detail.students.length
    ? h('ol', { class: 'student-list', 'data-testid': 'students' }, detail.students.map((s, i) => h('li', { class: 'student' },
      h('span', { class: 'student-no', 'aria-hidden': 'true' }, String(i + 1)),
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(s)),
      h('div', { class: 'student-main' },
        h('div', { class: 'student-line' }, personLink(orgId, s, 'student-name'),
          s.has_password ? passwordBadge(s) : null),
        h('p', { class: 'parents' },
          h('span', { class: 'parents-label' }, `${t('class.parents')}: `),
          s.guardians.length
            ? s.guardians.flatMap((g, k) => [k ? ', ' : null, personLink(orgId, g)])
            : h('span', { class: 'muted' }, t('class.noParents')))),
      h('button', {
        type: 'button', class: 'btn btn-ghost btn-sm student-move',
        'aria-label': `${t('class.move')}: ${fullName(s)}`,
        onclick: () => moveStudent(ctx, detail.class, s),
      }, icon('move'), h('span', { class: 'btn-label' }, t('class.move'))))))
    : notice('info', t('class.noStudents'));
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, t('class.students'),
      h('span', { class: 'count' }, String(detail.students.length))),
    list);
}

function classTeacherCard(ctx, c, teachers) {
  const orgId = ctx.params.org;
  const id = uid('sec');
  const select = h('select', { class: 'input', 'data-testid': 'class-teacher-select' },
    h('option', { value: '' }, t('class.teacherNone')),
    teachers.map((p) => h('option', { value: String(p.id), selected: p.id === c.class_teacher_id }, fullName(p))));
  if (c.class_teacher_id && !teachers.some((p) => p.id === c.class_teacher_id)) {
    select.append(h('option', { value: String(c.class_teacher_id), selected: true }, c.class_teacher_name));
  }
  const f = field({ label: t('class.teacherChange'), input: select });
  const err = formError();
  const save = button(t('common.save'), { kind: 'secondary', type: 'submit' });
  const form = h('form', { class: 'stacked-form', novalidate: true }, f.wrap, save, err.el);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const value = select.value ? Number(select.value) : null;
    try {
      await busy(save, t('common.saving'), () => api.editClass(orgId, c.id, { class_teacher_id: value }));
      await ctx.rerender();
      announce(t('class.teacherSaved'));
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  return h('section', { class: 'card section-card card-teacher', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, t('roster.classTeacher')),
    h('p', { class: 'class-teacher', 'data-testid': 'class-teacher' },
      c.class_teacher_id
        ? [h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, icon('teacher')),
          h('a', { class: 'person-link', href: `#/roster/${orgId}/person/${c.class_teacher_id}` }, c.class_teacher_name)]
        : h('span', { class: 'muted' }, t('roster.noClassTeacher'))),
    form);
}

function subjectsSection(orgId, sections) {
  const id = uid('sec');
  const body = sections.length
    ? h('ul', { class: 'subject-list', 'data-testid': 'subjects' }, sections.map((s) => h('li', { class: 'subject' },
      h('div', { class: 'subject-head' },
        h('span', { class: 'subject-name' }, s.subject),
        h('span', { class: 'subject-group' }, s.group_name
          ? t('class.groupOf', { group: groupLabel(s.group_name), students: plural('students', s.group_students) })
          : t('class.wholeClass'))),
      s.teachers.length
        ? h('ul', { class: 'subject-teachers' }, s.teachers.map((p) => h('li', null, personLink(orgId, p))))
        : h('p', { class: 'muted small' }, t('class.noTeacher')))))
    : h('p', { class: 'muted' }, t('class.noSubjects'));
  return h('section', { class: 'card section-card', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, t('class.subjects')), body);
}

async function rename(ctx, c) {
  const input = textInput({ value: c.name, maxlength: '20', 'data-testid': 'class-name' });
  const f = field({ label: t('roster.className'), input, hint: t('roster.classNameHint') });
  await openDialog({
    title: t('class.renameTitle'),
    build: (body) => body.append(f.wrap),
    submitLabel: t('common.save'),
    onSubmit: async () => {
      const name = input.value.trim();
      if (!validClassName(name)) {
        f.setError(t('roster.classNameBad'));
        input.focus();
        return false;
      }
      await api.editClass(ctx.params.org, c.id, { name });
      await ctx.rerender();
      announce(t('class.renamed'));
      return true;
    },
  });
}

async function issue(ctx, c) {
  const ok = await confirmDialog({
    title: t('class.issueTitle', { name: c.name }),
    text: t('class.issueText'),
    confirmLabel: t('class.issueConfirm'),
  });
  if (!ok) return;
  const btn = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="issue-passwords"]'));
  try {
    const rows = await busy(btn, t('common.saving'), () => api.passwordSlip(ctx.params.org, c.id));
    keepSlip(ctx.params.org, c.id, rows);
    ctx.navigate(`/roster/${ctx.params.org}/class/${c.id}/slip`);
  } catch (ex) {
    await openDialog({ title: t('class.issue'), build: (body) => body.append(notice('error', ex.text ? ex.text() : t('error.unknown'))) });
  }
}

async function moveStudent(ctx, current, student) {
  const classes = await api.classes(ctx.params.org);
  const select = h('select', { class: 'input', 'data-testid': 'move-class' },
    classes.filter((k) => k.id !== current.id).map((k) => h('option', { value: String(k.id) }, k.name)));
  const f = field({ label: t('class.moveTo'), input: select });
  await openDialog({
    title: t('class.moveTitle'),
    build: (body) => body.append(h('p', { class: 'dialog-text' }, t('class.moveWho', { name: fullName(student) })), f.wrap),
    submitLabel: t('class.moveSubmit'),
    onSubmit: async () => {
      const target = classes.find((k) => String(k.id) === select.value);
      if (!target) return false;
      await api.moveStudent(ctx.params.org, student.id, target.id);
      await ctx.rerender();
      announce(t('class.moved', { name: fullName(student), class: target.name }));
      return true;
    },
  });
}
