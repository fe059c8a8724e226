// @ts-check
// Consent forms in a parents' chat (issue 20): «Согласие» beside the
// composer (the chat's admins only) opens a form — title, text, options
// («Согласен» / «Не согласен» or the teacher's own), a deadline, a required
// comment. The card in the chat has one row per child of the viewer in the
// class; whichever guardian answers, both see it, and the latest counts. The
// chat's admins open the report: who answered what and when, who has not,
// «Напомнить», the CSV and a print view for the paper file.
//
// `consent` events carry no family's answer: a card whose rows an event may
// have changed asks the server for the viewer's own rows again.

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import { openDialog, field, textInput, announce, spinner, notice, button } from '../ui.js';
import * as fmt from './format.js';
import { newClientId } from './outbox.js';
import { svg } from './attachments.js';

/** A ticked sheet: «Согласие». */
const SHEET = ['M6 3h9l4 4v14H6V3Z', 'M15 3v4h4', 'M9 14l2.5 2.5L16 12'];

const DEFAULT_OPTIONS = ['Согласен', 'Не согласен'];
const MAX_OPTIONS = 10;

addStrings({
  ru: {
    'consent.create': 'Форма согласия',
    'consent.title': 'Форма согласия',
    'consent.formTitle': 'Заголовок',
    'consent.text': 'На что просите согласие',
    'consent.option': 'Вариант {n}',
    'consent.addOption': 'Добавить вариант',
    'consent.deadline': 'Ответить до',
    'consent.commentRequired': 'Комментарий обязателен',
    'consent.submit': 'Отправить родителям',
    'consent.mark': 'Согласие',
    'consent.until': 'Ответить до {when}',
    'consent.closed': 'Срок ответа прошёл {when}',
    'consent.comment': 'Комментарий',
    'consent.commentOptional': 'Комментарий (необязательно)',
    'consent.answeredBy': '{option} — {who}, {when}',
    'consent.noAnswer': 'Нет ответа',
    'consent.noChildren': 'У вас нет детей в этом классе: отвечают их родители.',
    'consent.saved': 'Ответ сохранён.',
    'consent.report': 'Ответы',
    'consent.reopen': 'Открыть снова',
    'consent.reopenTitle': 'Принимать ответы до',
    'consent.reopenSubmit': 'Открыть',
    'consent.reopened': 'Форма снова принимает ответы.',
    'consent.student': 'Ученик',
    'consent.answer': 'Ответ',
    'consent.who': 'Кто ответил',
    'consent.when': 'Когда',
    'consent.earlier': 'Раньше: {list}',
    'consent.guardians': 'Родители в чате: {list}',
    'consent.noGuardians': 'Никого из родителей нет в чате',
    'consent.remind': 'Напомнить',
    'consent.remindNone': 'Напоминать некому: ответили все.',
    'consent.reminded': 'Напоминание отправлено.',
    'consent.remindedAt': 'Напоминание отправлено {when}. Следующее — не раньше {next}.',
    'consent.csv': 'Скачать CSV',
    'consent.print': 'Печать',
    'consent.reminder': 'Напоминание в чате «{chat}»: ответьте на форму согласия.',
  },
  en: {
    'consent.create': 'Consent form',
    'consent.title': 'Consent form',
    'consent.formTitle': 'Title',
    'consent.text': 'What the consent is for',
    'consent.option': 'Option {n}',
    'consent.addOption': 'Add an option',
    'consent.deadline': 'Answer by',
    'consent.commentRequired': 'A comment is required',
    'consent.submit': 'Send to parents',
    'consent.mark': 'Consent',
    'consent.until': 'Answer by {when}',
    'consent.closed': 'The deadline passed {when}',
    'consent.comment': 'Comment',
    'consent.commentOptional': 'Comment (optional)',
    'consent.answeredBy': '{option} — {who}, {when}',
    'consent.noAnswer': 'No answer',
    'consent.noChildren': 'You have no children in this class: their parents answer.',
    'consent.saved': 'Answer saved.',
    'consent.report': 'Answers',
    'consent.reopen': 'Reopen',
    'consent.reopenTitle': 'Take answers until',
    'consent.reopenSubmit': 'Reopen',
    'consent.reopened': 'The form takes answers again.',
    'consent.student': 'Student',
    'consent.answer': 'Answer',
    'consent.who': 'Answered by',
    'consent.when': 'When',
    'consent.earlier': 'Earlier: {list}',
    'consent.guardians': 'Parents in the chat: {list}',
    'consent.noGuardians': 'No parent is in the chat',
    'consent.remind': 'Remind',
    'consent.remindNone': 'Nobody to remind: everyone has answered.',
    'consent.reminded': 'Reminder sent.',
    'consent.remindedAt': 'Reminder sent {when}. The next one not before {next}.',
    'consent.csv': 'Download CSV',
    'consent.print': 'Print',
    'consent.reminder': 'A reminder in «{chat}»: please answer the consent form.',
  },
});

const ANSWERED = {
  ru: { one: 'Ответили за {n} ученика из {total}', few: 'Ответили за {n} учеников из {total}', many: 'Ответили за {n} учеников из {total}' },
  en: { one: 'Answered for {n} student of {total}', other: 'Answered for {n} students of {total}' },
};

export function answeredText(n, total) {
  return fmt.counted(ANSWERED, n, { total });
}

function ensureStyles() {
  if (document.querySelector('link[data-pm-consent]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/consent.css', 'data-pm-consent': '' }));
}

function when(secs) {
  return `${fmt.dayLabel(secs).toLowerCase()} ${fmt.clockTime(secs)}`;
}

export function consentClosed(c, now = Date.now() / 1000) {
  return now >= c.deadline;
}

/** `datetime-local`'s value in local time, `secs` from now. */
function localInput(secs) {
  const d = new Date(Date.now() + secs * 1000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset(), 0, 0);
  return d.toISOString().slice(0, 16);
}

function deadlineInput(testid) {
  return h('input', { type: 'datetime-local', class: 'input', 'data-testid': testid, value: localInput(3 * 24 * 3600), required: true });
}

function secsOf(input) {
  return input.value ? Math.floor(new Date(input.value).getTime() / 1000) : 0;
}

/**
 * «Согласие» beside the composer: a parents' chat's admins only.
 * @param {import('./conversation.js').Conversation} conv
 */
export function consentButton(conv) {
  const s = conv.summary;
  if (!s || !s.admin || s.kind !== 'parents') return null;
  ensureStyles();
  const btn = h('button', {
    type: 'button', class: 'pm-attach', 'aria-label': t('consent.create'), title: t('consent.create'), 'data-testid': 'consent-create',
  }, svg(SHEET));
  btn.addEventListener('click', () => openConsentForm(conv));
  return btn;
}

/** @param {import('./conversation.js').Conversation} conv */
function openConsentForm(conv) {
  const title = field({ label: t('consent.formTitle'), input: textInput({ maxlength: '200', 'data-testid': 'consent-title' }) });
  const text = field({ label: t('consent.text'), input: h('textarea', { class: 'input', rows: '3', maxlength: '10000', 'data-testid': 'consent-text' }) });
  const list = h('div', { class: 'pm-consent-options' });
  const options = [];
  const more = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'consent-add-option' }, t('consent.addOption'));
  const addOption = (value = '') => {
    const f = field({ label: t('consent.option', { n: options.length + 1 }), input: textInput({ maxlength: '200', value, 'data-testid': 'consent-option' }) });
    options.push(f);
    list.append(f.wrap);
    more.hidden = options.length >= MAX_OPTIONS;
    return f;
  };
  more.addEventListener('click', () => addOption().input.focus());
  const deadline = field({ label: t('consent.deadline'), input: deadlineInput('consent-deadline') });
  const required = h('input', { type: 'checkbox', 'data-testid': 'consent-comment-required' });
  openDialog({
    title: t('consent.title'),
    submitLabel: t('consent.submit'),
    build: (body) => {
      body.classList.add('pm-consent-form');
      for (const o of DEFAULT_OPTIONS) addOption(o);
      body.append(title.wrap, text.wrap, list, more, deadline.wrap,
        h('label', { class: 'pm-poll-check' }, required, h('span', null, t('consent.commentRequired'))));
    },
    onSubmit: async ({ showError }) => {
      const body = {
        client_id: newClientId(),
        title: title.input.value,
        text: text.input.value,
        options: options.map((f) => f.input.value).filter((v) => v.trim()),
        deadline: secsOf(deadline.input),
        comment_required: required.checked,
      };
      try {
        await api.createConsent(conv.id, body);
      } catch (e) {
        showError(e.text ? e.text() : t('error.unknown'));
        return false;
      }
      return true;
    },
  });
}

/**
 * A form message's card: the viewer's children with their answers.
 * @param {import('./conversation.js').Conversation} conv
 */
export function consentEl(conv, m) {
  ensureStyles();
  const c = m.consent;
  const s = conv.summary;
  const closed = consentClosed(c) || s.read_only;
  if (!c.children) conv.store.refreshConsent(conv.id, m.id);
  const head = h('div', { class: 'pm-consent-head' },
    h('p', { class: 'pm-poll-kind' }, t('consent.mark')),
    h('p', { class: 'pm-consent-title', 'data-testid': 'consent-title' }, c.title));
  const status = h('p', { class: ['pm-consent-status', closed && 'is-closed'], 'data-testid': 'consent-status' },
    closed ? t('consent.closed', { when: fmt.fullTime(c.deadline) }) : t('consent.until', { when: fmt.fullTime(c.deadline) }));
  const rows = (c.children || []).map((child) => childRow(conv, m, child, closed));
  const out = h('div', { class: 'pm-consent', 'data-testid': 'consent' }, head, status);
  if (c.children && !rows.length && !s.admin) out.append(h('p', { class: 'pm-consent-note' }, t('consent.noChildren')));
  if (rows.length) out.append(h('ul', { class: 'pm-consent-children' }, rows));
  if (s.admin) {
    const foot = h('div', { class: 'pm-poll-foot' },
      h('span', { 'data-testid': 'consent-answered' }, answeredText(c.answered, c.students)));
    const open = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'consent-report' }, t('consent.report'));
    open.addEventListener('click', () => openReport(conv, m.id));
    foot.append(open);
    if (closed && !s.read_only) {
      const reopen = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'consent-reopen' }, t('consent.reopen'));
      reopen.addEventListener('click', () => openReopen(conv, m.id));
      foot.append(reopen);
    }
    out.append(foot);
  }
  return out;
}

/** @param {import('./conversation.js').Conversation} conv */
function childRow(conv, m, child, closed) {
  const c = m.consent;
  const a = child.answer;
  const comment = textInput({
    maxlength: '1000', 'data-testid': 'consent-comment', value: a?.comment || '',
    placeholder: c.comment_required ? t('consent.comment') : t('consent.commentOptional'),
    'aria-label': `${c.comment_required ? t('consent.comment') : t('consent.commentOptional')}: ${child.name}`,
    disabled: closed,
  });
  const options = c.options.map((text, i) => {
    const btn = h('button', {
      type: 'button', class: ['pm-consent-option', a?.option === i && 'is-chosen'], disabled: closed,
      'aria-pressed': String(a?.option === i), 'data-testid': 'consent-option', 'data-index': i,
    }, text);
    btn.addEventListener('click', async () => {
      try {
        const form = await api.answerConsent(conv.id, m.id, { student: child.student, option: i, comment: comment.value || null });
        conv.store.consentChanged(conv.id, m.id, form);
        announce(t('consent.saved'));
      } catch (e) {
        announce(e.text ? e.text() : t('error.unknown'), { error: true });
      }
    });
    return btn;
  });
  const state = a
    ? t('consent.answeredBy', { option: c.options[a.option] ?? '', who: a.by.name, when: when(a.at) })
    : t('consent.noAnswer');
  return h('li', { class: 'pm-consent-child', 'data-testid': 'consent-child', 'data-student': child.student },
    h('p', { class: 'pm-consent-name' }, child.name),
    h('div', { class: 'pm-consent-choices', role: 'group', 'aria-label': child.name }, options),
    comment,
    h('p', { class: ['pm-consent-answer', a && 'is-answered'], 'data-testid': 'consent-answer' }, state));
}

/** @param {import('./conversation.js').Conversation} conv */
function openReopen(conv, message) {
  const deadline = field({ label: t('consent.reopenTitle'), input: deadlineInput('consent-reopen-deadline') });
  openDialog({
    title: t('consent.reopen'),
    submitLabel: t('consent.reopenSubmit'),
    build: (body) => body.append(deadline.wrap),
    onSubmit: async ({ showError }) => {
      try {
        conv.store.consentChanged(conv.id, message, await api.reopenConsent(conv.id, message, secsOf(deadline.input)));
        announce(t('consent.reopened'));
      } catch (e) {
        showError(e.text ? e.text() : t('error.unknown'));
        return false;
      }
      return true;
    },
  });
}

/**
 * The report: every student, their answer or none, with «Напомнить», CSV and print.
 * @param {import('./conversation.js').Conversation} conv
 */
function openReport(conv, message) {
  openDialog({
    title: t('consent.report'),
    build: (body) => {
      body.classList.add('pm-consent-report');
      body.closest('dialog')?.classList.add('pm-consent-dialog');
      const load = async () => {
        clear(body).append(spinner());
        let r;
        try {
          r = await api.consentReport(conv.id, message);
        } catch (e) {
          clear(body).append(notice('error', e.text ? e.text() : t('error.unknown')));
          return;
        }
        clear(body).append(...reportView(conv, r, load));
      };
      // Answers coming in while it is open refresh it (Conversation.render).
      conv.consentReport = { message, reload: load };
      load();
    },
  }).then(() => {
    if (conv.consentReport?.message === message) conv.consentReport = null;
  });
}

/** @param {import('./conversation.js').Conversation} conv */
function reportView(conv, r, reload) {
  const out = [
    h('p', { class: 'pm-consent-title' }, r.title),
    h('p', { class: 'pm-consent-text' }, r.text),
    h('p', { class: 'pm-consent-status' }, consentClosed(r) ? t('consent.closed', { when: fmt.fullTime(r.deadline) }) : t('consent.until', { when: fmt.fullTime(r.deadline) })),
    h('p', { class: 'pm-receipts-sum', 'data-testid': 'consent-report-sum' }, answeredText(r.answered, r.total)),
    h('ul', { class: 'pm-consent-counts' }, r.options.map((o, i) => h('li', null, `${o}: ${r.counts[i] ?? 0}`))),
  ];
  const head = h('tr', null, ...['#', t('consent.student'), t('consent.answer'), t('consent.comment'), t('consent.who'), t('consent.when')]
    .map((x) => h('th', { scope: 'col' }, x)));
  const rows = r.students.map((s, i) => {
    const a = s.answer;
    const earlier = s.history.map((x) => `${r.options[x.option] ?? ''} — ${x.by.name}, ${when(x.at)}`);
    const guardians = s.guardians.length ? t('consent.guardians', { list: s.guardians.map((g) => g.name).join(', ') }) : t('consent.noGuardians');
    return h('tr', { class: [!a && 'is-missing'], 'data-testid': 'consent-report-row' },
      h('td', { class: 'pm-consent-n' }, String(i + 1)),
      h('th', { scope: 'row' }, s.name, h('span', { class: 'pm-consent-sub' }, guardians),
        earlier.length ? h('span', { class: 'pm-consent-sub' }, t('consent.earlier', { list: earlier.join('; ') })) : null),
      h('td', { 'data-label': t('consent.answer') }, a ? r.options[a.option] ?? '' : t('consent.noAnswer')),
      h('td', { 'data-label': t('consent.comment') }, a?.comment || ''),
      h('td', { 'data-label': t('consent.who') }, a?.by.name || ''),
      h('td', { 'data-label': t('consent.when') }, a ? fmt.fullTime(a.at) : ''));
  });
  out.push(h('table', { class: 'pm-consent-table', 'data-testid': 'consent-report-table' }, h('thead', null, head), h('tbody', null, rows)));
  const actions = h('div', { class: 'pm-consent-actions' });
  const offset = -new Date().getTimezoneOffset();
  actions.append(h('a', {
    class: 'btn btn-secondary', href: `/api/messenger/chats/${conv.id}/messages/${r.message}/consent.csv?offset=${offset}`, download: '', 'data-testid': 'consent-csv',
  }, t('consent.csv')));
  actions.append(button(t('consent.print'), { iconName: 'print', attrs: { 'data-testid': 'consent-print' }, onClick: printReport }));
  const missing = r.students.filter((s) => !s.answer).length;
  const waiting = r.next_reminder_at && r.next_reminder_at > Date.now() / 1000;
  if (!missing) out.push(h('p', { class: 'pm-receipts-note' }, t('consent.remindNone')));
  else if (!waiting) {
    const remind = button(t('consent.remind'), {
      kind: 'primary',
      iconName: 'bell',
      attrs: { 'data-testid': 'consent-remind' },
      onClick: async () => {
        remind.disabled = true;
        try {
          await api.remindConsent(conv.id, r.message);
          announce(t('consent.reminded'));
        } catch (e) {
          announce(e.text ? e.text() : t('error.unknown'), { error: true });
        }
        reload();
      },
    });
    actions.prepend(remind);
  }
  if (r.reminded_at) {
    out.push(h('p', { class: 'pm-receipts-note', 'data-testid': 'consent-reminded' }, t('consent.remindedAt', { when: when(r.reminded_at), next: when(r.next_reminder_at) })));
  }
  out.push(actions);
  return out;
}

/** Prints the report alone (consent.css hides the rest of the page). */
function printReport() {
  document.body.classList.add('pm-print-consent');
  window.addEventListener('afterprint', () => document.body.classList.remove('pm-print-consent'), { once: true });
  window.print();
}

/** A reminder frame about a form: a notice for the guardian asked to answer. */
export function reminderText(f) {
  return t('consent.reminder', { chat: f.chat_name });
}
