// @ts-check
// The school's moderation queue (safeguarding), for its administrators and
// the staff the director names responsible: each report with the message and
// those around it as they were, and one decision — hide the message, mute or
// remove its author, or dismiss. Administrators also name the responsible staff.

import './manage-strings.js';
import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t, addStrings, formatDateTime } from '../i18n.js';
import { notice, button, field, announce, emptyState, textInput } from '../ui.js';
import { outcomeText, chatName } from '../safeguarding.js';
import { frame, staffOnly, loadOptions } from './manage.js';

export const name = 'reports';

addStrings({
  ru: {
    'sg.tab': 'Жалобы',
    'sg.queueOpen': 'Новые',
    'sg.queueDecided': 'Рассмотренные',
    'sg.queueEmpty': 'Жалоб нет',
    'sg.notModerator': 'Жалобы видят администрация школы и ответственные за безопасность.',
    'sg.from': 'Пожаловался(ась): {name}, {date}',
    'sg.author': 'Автор: {name}',
    'sg.hide': 'Скрыть сообщение для всех',
    'sg.mute': 'Запретить автору писать в этот чат',
    'sg.mute.none': 'Не запрещать',
    'sg.mute.60': 'на 1 час',
    'sg.mute.1440': 'на сутки',
    'sg.mute.10080': 'на неделю',
    'sg.remove': 'Удалить автора из чата',
    'sg.decisionNote': 'Комментарий для заявителя',
    'sg.apply': 'Применить',
    'sg.dismiss': 'Отклонить жалобу',
    'sg.done': 'Решение принято.',
    'sg.decidedBy': '{status} · {name}, {date}',
    'sg.reported': 'обжалованное сообщение',
    'sg.staffLead': 'Сотрудники, которые вместе с администрацией рассматривают жалобы. Назначить можно на странице сотрудника.',
    'sg.staffNone': 'Пока никто не назначен.',
    'sg.unname': 'Снять',
    'sg.oversee': 'Открыть чат для проверки',
    'sg.overseeLead': 'Чат открывается только для чтения и только с указанием причины. Каждое открытие записывается; участники чата видят, сколько раз и когда его открывали (но не кто и не зачем).',
    'sg.overseeChat': 'Чат',
    'sg.overseeReason': 'Причина',
    'sg.overseeOpen': 'Открыть для чтения',
    'sg.overseeEmpty': 'В чате нет сообщений.',
    'sg.log': 'Журнал открытий чатов',
    'sg.logEmpty': 'Чаты ещё не открывали.',
    'mg.action.open_chat': 'Открыл(а) чат для проверки',
    'mg.action.report': 'Пожаловался(ась) на сообщение',
    'mg.action.hide_message': 'Скрыл(а) сообщение',
    'mg.action.mute_member': 'Запретил(а) писать',
    'mg.action.dismiss_report': 'Отклонил(а) жалобу',
    'mg.field.report': 'жалоба',
    'mg.field.message': 'сообщение',
    'mg.field.reason': 'причина',
    'mg.field.muted_until': 'до',
    'mg.field.note': 'комментарий',
  },
  en: {
    'sg.tab': 'Reports',
    'sg.queueOpen': 'New',
    'sg.queueDecided': 'Decided',
    'sg.queueEmpty': 'No reports',
    'sg.notModerator': 'Reports are seen by the school administration and safeguarding staff.',
    'sg.from': 'Reported by {name}, {date}',
    'sg.author': 'Author: {name}',
    'sg.hide': 'Hide the message for everyone',
    'sg.mute': 'Mute the author in this chat',
    'sg.mute.none': 'Do not mute',
    'sg.mute.60': 'for 1 hour',
    'sg.mute.1440': 'for a day',
    'sg.mute.10080': 'for a week',
    'sg.remove': 'Remove the author from the chat',
    'sg.decisionNote': 'A note for the reporter',
    'sg.apply': 'Apply',
    'sg.dismiss': 'Dismiss the report',
    'sg.done': 'Decision taken.',
    'sg.decidedBy': '{status} · {name}, {date}',
    'sg.reported': 'the reported message',
    'sg.staffLead': 'Staff who review reports together with the administration. Name them on a staff member’s page.',
    'sg.staffNone': 'Nobody is named yet.',
    'sg.unname': 'Remove',
    'sg.oversee': 'Open a chat to check it',
    'sg.overseeLead': 'A chat opens read-only and only with a reason. Every opening is logged; the chat’s members see how often and when it was opened (not who or why).',
    'sg.overseeChat': 'Chat',
    'sg.overseeReason': 'Reason',
    'sg.overseeOpen': 'Open read-only',
    'sg.overseeEmpty': 'The chat has no messages.',
    'sg.log': 'Log of chat openings',
    'sg.logEmpty': 'No chat has been opened yet.',
    'mg.action.open_chat': 'Opened the chat to check it',
    'mg.action.report': 'Reported a message',
    'mg.action.hide_message': 'Hid a message',
    'mg.action.mute_member': 'Muted',
    'mg.action.dismiss_report': 'Dismissed a report',
    'mg.field.report': 'report',
    'mg.field.message': 'message',
    'mg.field.reason': 'reason',
    'mg.field.muted_until': 'until',
    'mg.field.note': 'note',
  },
});

export async function render(ctx) {
  const options = await loadOptions(ctx);
  const orgId = ctx.params.org;
  if (!options) return staffOnly(orgId);
  const decided = ctx.query.get('decided') === '1';
  let reports;
  try {
    reports = await api.safeguarding.reports(orgId, decided);
  } catch (e) {
    if (e.status !== 403) throw e;
    return h('div', { class: 'container narrow' }, ...frame(orgId, options, null, [{ label: t('sg.tab') }]),
      notice('info', t('sg.notModerator')));
  }
  const base = `#/chats/${orgId}/manage/reports`;
  const list = h('div', { class: 'stack', 'data-testid': 'reports' });
  if (!reports.length) list.append(emptyState(t('sg.queueEmpty')));
  for (const r of reports) list.append(reportCard(ctx, orgId, r));
  return h('div', { class: 'container' }, ...frame(orgId, options, 'reports', [{ label: t('sg.tab') }]),
    h('nav', { class: 'tabs', 'aria-label': t('sg.tab') },
      h('a', { class: 'tab', href: base, 'aria-current': decided ? null : 'page' }, t('sg.queueOpen')),
      h('a', { class: 'tab', href: `${base}?decided=1`, 'aria-current': decided ? 'page' : null }, t('sg.queueDecided'))),
    list,
    await oversightSection(orgId),
    options.administrator ? await staffSection(ctx, orgId) : null);
}

/** Open a chat read-only with a reason, and the log of every opening. */
async function oversightSection(orgId) {
  const [chats, log] = await Promise.all([
    api.manage.chats(orgId, { state: 'all' }).catch(() => []),
    api.safeguarding.oversightLog(orgId),
  ]);
  const chat = h('select', { class: 'input', 'data-testid': 'oversee-chat' },
    chats.map((c) => h('option', { value: String(c.id) }, c.name)));
  const reason = textInput({ maxlength: '500', 'data-testid': 'oversee-reason' });
  const shown = h('div', { 'data-testid': 'oversee-messages' });
  const open = async () => {
    try {
      const view = await api.safeguarding.oversee(orgId, chat.value, reason.value);
      clear(shown).append(view.messages.length
        ? contextEl({ context: view.messages, message_id: null })
        : h('p', { class: 'muted' }, t('sg.overseeEmpty')));
      reason.value = '';
      clear(logList).append(...logRows(await api.safeguarding.oversightLog(orgId)));
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  };
  const logList = h('ul', { class: 'link-rows', 'data-testid': 'oversight-log' }, ...logRows(log));
  return h('section', { class: 'card section-card' },
    h('h2', { class: 'section-title' }, t('sg.oversee')),
    h('div', { class: 'stack' },
      h('p', { class: 'muted' }, t('sg.overseeLead')),
      field({ label: t('sg.overseeChat'), input: chat }).wrap,
      field({ label: t('sg.overseeReason'), input: reason }).wrap,
      h('p', { class: 'section-actions' },
        button(t('sg.overseeOpen'), { kind: 'primary', iconName: 'eye', onClick: open, attrs: { 'data-testid': 'oversee-open' } })),
      shown),
    h('h3', { class: 'section-title' }, t('sg.log')),
    logList);
}

function logRows(log) {
  if (!log.length) return [h('li', { class: 'muted' }, t('sg.logEmpty'))];
  return log.map((e) => h('li', null,
    h('strong', null, formatDateTime(e.at)), ` · ${e.person_name} · ${chatName(e)} · «${e.reason}»`));
}

function contextEl(r) {
  return h('ol', { class: 'report-context', 'data-testid': 'report-context' }, r.context.map((m) => h('li', {
    class: m.id === r.message_id ? 'report-reported' : null,
  },
  h('strong', null, m.author.name), ' ', h('span', { class: 'muted' }, formatDateTime(m.created_at)),
  m.id === r.message_id ? h('span', { class: 'chip' }, t('sg.reported')) : null,
  h('div', null, m.deleted ? t('chat.deleted') : m.text))));
}

function reportCard(ctx, orgId, r) {
  const card = h('section', { class: 'card section-card', 'data-testid': 'report' },
    h('h2', { class: 'section-title' }, `${t(`sg.reason.${r.reason}`)} · ${chatName(r)}`),
    h('p', { class: 'muted' }, t('sg.from', { name: r.reporter_name, date: formatDateTime(r.created_at) }), ' · ',
      t('sg.author', { name: r.author_name })),
    r.comment ? h('p', null, `«${r.comment}»`) : null,
    contextEl(r));
  if (r.status !== 'open') {
    const status = t(`sg.status.${r.status}`) + (r.status === 'actioned' ? `: ${outcomeText(r)}` : '');
    card.append(h('p', { 'data-testid': 'report-outcome' },
      t('sg.decidedBy', { status, name: r.decided_by_name || '', date: formatDateTime(r.decided_at) })));
    if (r.note) card.append(h('p', null, t('sg.note', { note: r.note })));
    return card;
  }
  const hide = h('input', { type: 'checkbox', 'data-testid': 'decide-hide' });
  const mute = h('select', { class: 'input', 'data-testid': 'decide-mute' },
    ['none', '60', '1440', '10080'].map((v) => h('option', { value: v }, t(`sg.mute.${v}`))));
  const remove = h('input', { type: 'checkbox', 'data-testid': 'decide-remove' });
  const note = textInput({ maxlength: '500', 'data-testid': 'decide-note' });
  const send = async (dismiss) => {
    const form = dismiss ? { note: note.value } : {
      hide: hide.checked,
      remove: remove.checked,
      mute_minutes: mute.value === 'none' ? null : Number(mute.value),
      note: note.value,
    };
    try {
      await api.safeguarding.decide(orgId, r.id, form);
      announce(t('sg.done'));
      ctx.rerender();
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  };
  card.append(h('div', { class: 'stack' },
    h('label', { class: 'check' }, hide, ' ', t('sg.hide')),
    field({ label: t('sg.mute'), input: mute }).wrap,
    r.chat_kind === 'direct' ? null : h('label', { class: 'check' }, remove, ' ', t('sg.remove')),
    field({ label: t('sg.decisionNote'), input: note, optional: true }).wrap,
    h('p', { class: 'section-actions' },
      button(t('sg.apply'), { kind: 'primary', onClick: () => send(false), attrs: { 'data-testid': 'decide-apply' } }),
      button(t('sg.dismiss'), { kind: 'secondary', onClick: () => send(true), attrs: { 'data-testid': 'decide-dismiss' } }))));
  return card;
}

async function staffSection(ctx, orgId) {
  const staff = await api.safeguarding.staff(orgId);
  const list = h('ul', { class: 'link-rows', 'data-testid': 'safeguarding-staff' });
  if (!staff.length) list.append(h('li', { class: 'muted' }, t('sg.staffNone')));
  for (const p of staff) {
    list.append(h('li', null, h('a', { href: `#/roster/${orgId}/person/${p.person_id}` }, p.name), ' ',
      button(t('sg.unname'), { kind: 'ghost', onClick: async () => {
        await api.safeguarding.setStaff(orgId, p.person_id, false);
        ctx.rerender();
      } })));
  }
  return h('section', { class: 'card section-card' }, h('h2', { class: 'section-title' }, t('sg.staff')),
    h('p', { class: 'muted' }, t('sg.staffLead')), list);
}
