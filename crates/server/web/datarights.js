// @ts-check
// A person's rights over their data (152-ФЗ): «Мои данные» in the messenger's
// settings (one zip, made in the background, downloadable for 24 hours), and
// the strings and pieces the portal's «Данные» page shares (pages/data.js).

import { api } from './api.js';
import { h, clear } from './dom.js';
import { t, addStrings, formatDateTime } from './i18n.js';
import { button, announce } from './ui.js';

addStrings({
  ru: {
    'dr.mine': 'Мои данные',
    'dr.mineLead': 'Скачайте всё, что Parta хранит о вас: профиль, учётные записи школ, чаты и участие в них, ваши сообщения с датами и ваши файлы — одним zip-архивом. Архив готовится несколько секунд или минут; ссылка действует 24 часа.',
    'dr.request': 'Скачать мои данные',
    'dr.requestAgain': 'Подготовить новый архив',
    'dr.preparing': 'Архив готовится: {progress}%',
    'dr.ready': 'Архив готов',
    'dr.download': 'Скачать архив ({size})',
    'dr.validUntil': 'Ссылка действует до {date}.',
    'dr.expired': 'Ссылка истекла {date}.',
    'dr.failed': 'Архив не получился. Попробуйте ещё раз.',
    'dr.tab': 'Данные',
    'dr.title': 'Данные и хранение',
    'dr.lead': 'Копия данных человека по его запросу, стирание данных выбывших и срок хранения архивных чатов. Каждое действие записывается в журнал.',
    'dr.retention': 'Хранение архивных чатов',
    'dr.retentionLead': 'Архивные чаты прошлых учебных лет удаляются через выбранное число лет после окончания года.',
    'dr.years': 'Удалять через',
    'dr.yearsOff': 'не удалять никогда',
    'dr.yearsN': '{n} г.',
    'dr.preview': 'Что будет удалено сегодня',
    'dr.previewNone': 'Сейчас удалять нечего.',
    'dr.previewRow': '{name} · {year} · сообщений: {messages}, файлов: {files}',
    'dr.save': 'Сохранить',
    'dr.saved': 'Срок хранения сохранён.',
    'dr.exportTitle': 'Копия данных человека',
    'dr.exportLead': 'По запросу человека (или его законного представителя) соберите архив его данных в вашей школе. Укажите основание — оно попадёт в журнал.',
    'dr.search': 'Найти человека',
    'dr.exportFor': 'Копия данных',
    'dr.reason': 'Основание',
    'dr.reasonHint': 'Например: «Заявление от 7 декабря».',
    'dr.reasonNeeded': 'Укажите основание.',
    'dr.exportStarted': 'Архив готовится.',
    'dr.exports': 'Подготовленные архивы',
    'dr.exportsNone': 'Архивов пока нет.',
    'dr.formerTitle': 'Выбывшие: стирание данных',
    'dr.formerLead': 'Данные Parta ID выбывшего можно стереть: его сообщения останутся в чатах от имени «Удалённый пользователь», файлы будут удалены. Сначала посмотрите, что будет стёрто.',
    'dr.formerNone': 'Выбывших с нестёртыми данными нет.',
    'dr.erase': 'Стереть данные…',
    'dr.eraseTitle': 'Стереть данные: {name}',
    'dr.planMessages': 'Сообщений станет от «Удалённый пользователь»: {n}',
    'dr.planFiles': 'Файлов будет удалено: {n}',
    'dr.planReactions': 'Реакций и голосов будет удалено: {n}',
    'dr.planMemberships': 'Участий в чатах будет удалено: {n}',
    'dr.planLink': 'Связь с Parta ID будет удалена.',
    'dr.planPartaId': 'Parta ID будет стёрт полностью (других школ у него нет).',
    'dr.confirm': 'Я понимаю, что это нельзя отменить',
    'dr.confirmNeeded': 'Отметьте, что понимаете: стирание нельзя отменить.',
    'dr.eraseDo': 'Стереть',
    'dr.erased': 'Данные стёрты.',
    'dr.audit': 'Журнал',
    'dr.action.export': 'копия данных',
    'dr.action.erasure': 'стирание данных',
    'dr.action.retention_setting': 'срок хранения изменён',
    'dr.action.retention': 'удалены архивные чаты',
    'dr.system': 'система',
    'dr.deletedUser': 'Удалённый пользователь',
  },
  en: {
    'dr.mine': 'My data',
    'dr.mineLead': 'Download everything Parta keeps about you: profile, school accounts, chats and memberships, your messages with dates and your files, as one zip. It takes seconds to minutes to make; the link is valid for 24 hours.',
    'dr.request': 'Download my data',
    'dr.requestAgain': 'Make a new archive',
    'dr.preparing': 'Making the archive: {progress}%',
    'dr.ready': 'The archive is ready',
    'dr.download': 'Download the archive ({size})',
    'dr.validUntil': 'The link is valid until {date}.',
    'dr.expired': 'The link expired on {date}.',
    'dr.failed': 'The archive could not be made. Try again.',
    'dr.tab': 'Data',
    'dr.title': 'Data and retention',
    'dr.lead': 'A copy of a person’s data at their request, erasure of former members’ data, and how long archived chats are kept. Every action is logged.',
    'dr.retention': 'Keeping archived chats',
    'dr.retentionLead': 'Archived chats of past school years are deleted the chosen number of years after the year ends.',
    'dr.years': 'Delete after',
    'dr.yearsOff': 'never delete',
    'dr.yearsN': '{n} yr',
    'dr.preview': 'What would go today',
    'dr.previewNone': 'Nothing is due now.',
    'dr.previewRow': '{name} · {year} · messages: {messages}, files: {files}',
    'dr.save': 'Save',
    'dr.saved': 'Retention saved.',
    'dr.exportTitle': 'A copy of a person’s data',
    'dr.exportLead': 'At a person’s (or their legal representative’s) request, make an archive of their data in your school. Give the ground: it is logged.',
    'dr.search': 'Find a person',
    'dr.exportFor': 'Copy of data',
    'dr.reason': 'Ground',
    'dr.reasonHint': 'For example: “Request of 7 December”.',
    'dr.reasonNeeded': 'Give the ground.',
    'dr.exportStarted': 'The archive is being made.',
    'dr.exports': 'Archives made',
    'dr.exportsNone': 'No archives yet.',
    'dr.formerTitle': 'Former members: erasure',
    'dr.formerLead': 'A former member’s Parta ID data can be erased: their messages stay in the chats as “Deleted user”, their files are removed. See what goes first.',
    'dr.formerNone': 'No former members with data left.',
    'dr.erase': 'Erase data…',
    'dr.eraseTitle': 'Erase data: {name}',
    'dr.planMessages': 'Messages that become “Deleted user”: {n}',
    'dr.planFiles': 'Files removed: {n}',
    'dr.planReactions': 'Reactions and votes removed: {n}',
    'dr.planMemberships': 'Chat memberships removed: {n}',
    'dr.planLink': 'The link to the Parta ID is removed.',
    'dr.planPartaId': 'The Parta ID is erased entirely (no other school holds it).',
    'dr.confirm': 'I understand this cannot be undone',
    'dr.confirmNeeded': 'Tick the box: an erasure cannot be undone.',
    'dr.eraseDo': 'Erase',
    'dr.erased': 'The data is erased.',
    'dr.audit': 'Log',
    'dr.action.export': 'copy of data',
    'dr.action.erasure': 'data erased',
    'dr.action.retention_setting': 'retention changed',
    'dr.action.retention': 'archived chats deleted',
    'dr.system': 'system',
    'dr.deletedUser': 'Deleted user',
  },
});

/** «1,2 МБ» */
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A copy's state, refreshed every second while it is being made: progress,
 * then the download link and how long it lasts. `href` is its download URL.
 */
export function exportState(job, href, refresh) {
  const el = h('div', { class: 'export-state', 'data-testid': 'export-state' });
  const show = (j) => {
    clear(el);
    if (j.status === 'pending') {
      el.append(h('p', { role: 'status' }, t('dr.preparing', { progress: j.progress })),
        h('progress', { max: '100', value: String(j.progress), 'aria-label': t('dr.preparing', { progress: j.progress }) }));
      setTimeout(async () => {
        if (!el.isConnected) return;
        try {
          show(await refresh(j.id));
        } catch (e) {
          announce(e.text ? e.text() : t('error.unknown'), { error: true });
        }
      }, 1000);
    } else if (j.status === 'ready' && j.expires_at * 1000 > Date.now()) {
      el.append(h('p', null, h('strong', null, t('dr.ready')), ' ',
        h('a', { href: href(j.id), download: `parta-data-${j.id}.zip`, 'data-testid': 'export-download' },
          t('dr.download', { size: sizeText(j.size || 0) }))),
      h('p', { class: 'muted' }, t('dr.validUntil', { date: formatDateTime(j.expires_at) })));
    } else if (j.status === 'failed') {
      el.append(h('p', null, t('dr.failed')));
    } else {
      el.append(h('p', { class: 'muted' }, t('dr.expired', { date: formatDateTime(j.expires_at || j.created_at) })));
    }
  };
  show(job);
  return el;
}

/** «Мои данные» for the messenger's settings. */
export async function myDataSection() {
  const jobs = await api.dataRights.mine().catch(() => []);
  const holder = h('div', null);
  const href = (id) => `/api/messenger/exports/${encodeURIComponent(id)}/download`;
  const start = button(t('dr.request'), {
    kind: 'secondary',
    iconName: 'down',
    attrs: { 'data-testid': 'export-request' },
    onClick: async () => {
      try {
        place(await api.dataRights.requestMine());
      } catch (e) {
        announce(e.text ? e.text() : t('error.unknown'), { error: true });
      }
    },
  });
  function place(job) {
    clear(holder);
    if (!job) return;
    holder.append(exportState(job, href, api.dataRights.myExport));
    start.querySelector('.btn-label').textContent = t('dr.requestAgain');
  }
  place(jobs[0]);
  return h('div', null, h('p', null, t('dr.mineLead')), holder, h('p', { class: 'section-actions' }, start));
}
