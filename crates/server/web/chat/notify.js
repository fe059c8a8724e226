// @ts-check
// «Уведомления» in a chat's panel: how much of this chat notifies the person
// (docs/protocol.md, «Push»). The server keeps the choice; until one is made
// the chat's kind decides, and the option it gives is marked «по умолчанию».

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t, addStrings, formatDateTime } from '../i18n.js';
import { announce } from '../ui.js';

addStrings({
  ru: {
    'notify.title': 'Уведомления',
    'notify.all': 'Все сообщения',
    'notify.important': 'Только от учителя и упоминания',
    'notify.mentions': 'Только упоминания',
    'notify.hour': 'Без уведомлений на 1 час',
    'notify.eight': 'Без уведомлений на 8 часов',
    'notify.untilOn': 'Без уведомлений, пока не включу',
    'notify.default': '(по умолчанию)',
    'notify.mutedUntil': 'Без уведомлений до {date}. Упоминания вас всё равно придут.',
    'notify.mutedForever': 'Без уведомлений. Упоминания вас всё равно придут.',
    'notify.saved': 'Уведомления: {choice}.',
  },
  en: {
    'notify.title': 'Notifications',
    'notify.all': 'All messages',
    'notify.important': 'Only the teacher and mentions',
    'notify.mentions': 'Only mentions',
    'notify.hour': 'Mute for 1 hour',
    'notify.eight': 'Mute for 8 hours',
    'notify.untilOn': 'Mute until I turn them on',
    'notify.default': '(default)',
    'notify.mutedUntil': 'Muted until {date}. Mentions of you still come through.',
    'notify.mutedForever': 'Muted. Mentions of you still come through.',
    'notify.saved': 'Notifications: {choice}.',
  },
});

/** The server's «until turned on»: the largest 64-bit number (beyond any date). */
const FOREVER = 1e15;

/** Which option a setting shows as chosen. */
function chosenOption(n) {
  if (n.muted_until != null) {
    if (n.muted_until > FOREVER) return 'until_on';
    return n.muted_until - Date.now() / 1000 > 3600 ? 'eight_hours' : 'hour';
  }
  return n.level;
}

const OPTIONS = [
  { value: 'all', label: 'notify.all', change: { level: 'all', mute: 'off' } },
  { value: 'important', label: 'notify.important', change: { level: 'important', mute: 'off' } },
  { value: 'mentions', label: 'notify.mentions', change: { level: 'mentions', mute: 'off' } },
  { value: 'hour', label: 'notify.hour', change: { mute: 'hour' } },
  { value: 'eight_hours', label: 'notify.eight', change: { mute: 'eight_hours' } },
  { value: 'until_on', label: 'notify.untilOn', change: { mute: 'until_on' } },
];

export function notificationsSection(chat) {
  const id = `pm-notify-${chat}`;
  const body = h('div', { class: 'pm-notify-body' });
  const el = h('section', { class: 'pm-chat-settings', 'aria-labelledby': `${id}-h`, 'data-testid': 'chat-notifications' },
    h('h4', { id: `${id}-h`, class: 'pm-settings-title' }, t('notify.title')), body);
  const draw = (n) => {
    const current = chosenOption(n);
    // «Только упоминания» is offered where it is the chat's own default (a large chat) or chosen.
    const options = OPTIONS.filter((o) => o.value !== 'mentions' || n.default_level === 'mentions' || n.level === 'mentions');
    const group = h('div', { role: 'radiogroup', 'aria-labelledby': `${id}-h`, class: 'pm-notify-options' },
      options.map((o) => {
        const input = h('input', { type: 'radio', name: id, value: o.value });
        input.checked = o.value === current;
        input.addEventListener('change', () => save(o));
        const isDefault = o.value === n.default_level;
        return h('label', { class: 'check' }, input,
          h('span', null, t(o.label), isDefault ? h('span', { class: 'muted' }, ` ${t('notify.default')}`) : null));
      }));
    const muted = n.muted_until == null ? null
      : h('p', { class: 'muted small', 'data-testid': 'muted-until' },
        n.muted_until > FOREVER ? t('notify.mutedForever') : t('notify.mutedUntil', { date: formatDateTime(n.muted_until) }));
    clear(body).append(...[group, muted].filter(Boolean));
  };
  const save = async (option) => {
    try {
      const n = await api.setChatNotifications(chat, option.change);
      draw(n);
      announce(t('notify.saved', { choice: t(option.label) }));
      (/** @type {HTMLElement | null | undefined} */ (body.querySelector(`input[value="${option.value}"]`)))?.focus();
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
      load();
    }
  };
  const load = () => api.chatNotifications(chat).then(draw, () => { el.hidden = true; });
  load();
  return el;
}
