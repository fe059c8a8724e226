// @ts-check
// Safeguarding in the messenger and the portal: «Пожаловаться» on a message,
// the reporter's «Мои жалобы» with what became of each, and the strings of
// blocking in a direct chat (chat/members.js) and of the person page.

import { api } from './api.js';
import { h } from './dom.js';
import { t, addStrings, formatDateTime } from './i18n.js';
import { openDialog, field, announce } from './ui.js';

export const REASONS = ['bullying', 'inappropriate', 'danger', 'spam', 'other'];

addStrings({
  ru: {
    'sg.report': 'Пожаловаться',
    'sg.reportTitle': 'Пожаловаться на сообщение',
    'sg.reportLead': 'Жалобу увидят администрация школы и ответственные за безопасность. Автор не узнает, кто пожаловался.',
    'sg.reason': 'Что не так',
    'sg.reason.bullying': 'Травля, оскорбления',
    'sg.reason.inappropriate': 'Неприемлемое содержание',
    'sg.reason.danger': 'Опасность для ребёнка',
    'sg.reason.spam': 'Спам',
    'sg.reason.other': 'Другое',
    'sg.comment': 'Комментарий',
    'sg.send': 'Отправить жалобу',
    'sg.sent': 'Жалоба отправлена. Решение появится в настройках, в разделе «Мои жалобы».',
    'sg.hidden': 'Скрыто модератором',
    'sg.hiddenWhy': 'Скрыто модератором. Причина: {reason}',
    'sg.mine': 'Мои жалобы',
    'sg.mineEmpty': 'Вы ещё не жаловались.',
    'sg.status.open': 'На рассмотрении',
    'sg.status.actioned': 'Меры приняты',
    'sg.status.dismissed': 'Нарушений не найдено',
    'sg.outcome.hid': 'сообщение скрыто',
    'sg.outcome.muted': 'автору запрещено писать до {date}',
    'sg.outcome.removed': 'автор удалён из чата',
    'sg.in': 'Чат «{chat}», {date}',
    'sg.note': 'Комментарий модератора: {note}',
    'sg.staff': 'Ответственные за безопасность',
    'sg.direct': 'личная переписка',
    'sg.block': 'Заблокировать',
    'sg.unblock': 'Разблокировать',
    'sg.blockedDone': 'Заблокировано: этот человек не сможет писать вам здесь. Общие чаты не меняются.',
    'sg.unblockedDone': 'Разблокировано.',
    'sg.oversight': 'Администрация школы открывала этот чат {n} {times} за 30 дней: ',
    'sg.times.one': 'раз',
    'sg.times.few': 'раза',
    'sg.times.many': 'раз',
    'sg.times.other': 'раза',
    'person.safeguardingYes': 'Отвечает за безопасность: рассматривает жалобы вместе с администрацией.',
    'person.safeguardingNo': 'Не отвечает за безопасность.',
    'person.safeguardingOn': 'Назначить ответственным за безопасность',
    'person.safeguardingOff': 'Снять с ответственных за безопасность',
  },
  en: {
    'sg.report': 'Report',
    'sg.reportTitle': 'Report the message',
    'sg.reportLead': 'The school administration and safeguarding staff will see the report. The author is not told who reported.',
    'sg.reason': 'What is wrong',
    'sg.reason.bullying': 'Bullying, insults',
    'sg.reason.inappropriate': 'Inappropriate content',
    'sg.reason.danger': 'Danger to a child',
    'sg.reason.spam': 'Spam',
    'sg.reason.other': 'Other',
    'sg.comment': 'Comment',
    'sg.send': 'Send the report',
    'sg.sent': 'Report sent. The decision will appear in the settings, under «My reports».',
    'sg.hidden': 'Hidden by a moderator',
    'sg.hiddenWhy': 'Hidden by a moderator. Reason: {reason}',
    'sg.mine': 'My reports',
    'sg.mineEmpty': 'You have not reported anything.',
    'sg.status.open': 'Under review',
    'sg.status.actioned': 'Action taken',
    'sg.status.dismissed': 'No violation found',
    'sg.outcome.hid': 'the message is hidden',
    'sg.outcome.muted': 'the author may not write until {date}',
    'sg.outcome.removed': 'the author is removed from the chat',
    'sg.in': 'Chat «{chat}», {date}',
    'sg.note': 'Moderator’s note: {note}',
    'sg.staff': 'Safeguarding staff',
    'sg.direct': 'direct messages',
    'sg.block': 'Block',
    'sg.unblock': 'Unblock',
    'sg.blockedDone': 'Blocked: this person cannot write to you here. Group chats do not change.',
    'sg.unblockedDone': 'Unblocked.',
    'sg.oversight': 'The school administration opened this chat {n} {times} in 30 days: ',
    'sg.times.one': 'time',
    'sg.times.few': 'times',
    'sg.times.many': 'times',
    'sg.times.other': 'times',
    'person.safeguardingYes': 'Responsible for safeguarding: reviews reports with the administration.',
    'person.safeguardingNo': 'Not responsible for safeguarding.',
    'person.safeguardingOn': 'Make responsible for safeguarding',
    'person.safeguardingOff': 'No longer responsible for safeguarding',
  },
});

/** «Скрыто модератором» (with the reason for the author). */
export function hiddenText(m) {
  return m.hidden?.reason ? t('sg.hiddenWhy', { reason: t(`sg.reason.${m.hidden.reason}`) }) : t('sg.hidden');
}

export function reportDialog(chat, message) {
  const reason = h('select', { class: 'input', 'data-testid': 'report-reason' },
    REASONS.map((r) => h('option', { value: r }, t(`sg.reason.${r}`))));
  const comment = h('textarea', { class: 'input', rows: '3', maxlength: '1000', 'data-testid': 'report-comment' });
  return openDialog({
    title: t('sg.reportTitle'),
    build: (body) => body.append(
      h('p', { class: 'dialog-text' }, t('sg.reportLead')),
      field({ label: t('sg.reason'), input: reason }).wrap,
      field({ label: t('sg.comment'), input: comment, optional: true }).wrap),
    submitLabel: t('sg.send'),
    onSubmit: async () => {
      await api.reportMessage(chat, message.id, { reason: reason.value, comment: comment.value });
      announce(t('sg.sent'));
      return true;
    },
  });
}

/** A report's chat by name; a direct chat has none of its own. */
export function chatName(r) {
  return r.chat_kind === 'direct' || !r.chat_name ? t('sg.direct') : r.chat_name;
}

/** What the moderator did, in words. */
export function outcomeText(r) {
  const parts = [];
  if (r.hid) parts.push(t('sg.outcome.hid'));
  if (r.muted_until) parts.push(t('sg.outcome.muted', { date: formatDateTime(r.muted_until) }));
  if (r.removed) parts.push(t('sg.outcome.removed'));
  return parts.join(', ');
}

/** «Мои жалобы» for the messenger's settings. */
export async function myReportsList() {
  const reports = await api.myReports().catch(() => []);
  if (!reports.length) return h('p', { class: 'muted' }, t('sg.mineEmpty'));
  return h('ul', { class: 'link-rows', 'data-testid': 'my-reports' }, reports.map((r) => h('li', { 'data-testid': 'my-report' },
    h('div', null,
      h('strong', null, t(`sg.status.${r.status}`)),
      r.status === 'actioned' ? h('span', null, `: ${outcomeText(r)}`) : null,
      h('div', { class: 'muted' }, `${t(`sg.reason.${r.reason}`)} · ${t('sg.in', { chat: chatName(r), date: formatDateTime(r.created_at) })}`),
      r.note ? h('div', null, t('sg.note', { note: r.note })) : null))));
}
