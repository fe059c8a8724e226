// @ts-check
// Scheduled messages («Отправить позже», issue 19): a clock beside «Отправить»
// opens a picker (today at 18:00, tomorrow at 08:00, or any time) and the
// server keeps the composed text until then; «Запланировано: N» above the
// composer lists the author's own, to edit or cancel, and says why one could
// not be sent. Files cannot be scheduled: they are sent now.
// `scheduleMessage` is the one call that schedules, for any part of the page
// (the quiet-hours banner's «Отправить утром» too).

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import { openDialog, field, announce, confirmDialog } from '../ui.js';
import * as fmt from './format.js';
import { newClientId } from './outbox.js';
import { svg } from './attachments.js';

/** A clock: «Отправить позже». */
const CLOCK = ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 7v5l3 2'];

/** Told on `window` when a message was scheduled, with its view: the strip of its chat counts it. */
const SCHEDULED_EVENT = 'parta:scheduled';

/** Why a message was not sent, by the error code the server kept. */
const FAILURES = ['not_in_chat', 'announcement_only', 'chat_read_only', 'muted', 'blocked', 'reply_outside_chat'];

addStrings({
  ru: {
    'scheduled.open': 'Отправить позже',
    'scheduled.title': 'Отправить позже',
    'scheduled.submit': 'Запланировать',
    'scheduled.today': 'Сегодня в {time}',
    'scheduled.tomorrow': 'Завтра в {time}',
    'scheduled.monday': 'В понедельник в {time}',
    'scheduled.when': 'Дата и время',
    'scheduled.pickTime': 'Выберите дату и время отправки.',
    'scheduled.writeFirst': 'Сначала напишите сообщение, затем выберите, когда его отправить.',
    'scheduled.noFiles': 'Файлы нельзя отправить позже: отправьте их сейчас или уберите из сообщения.',
    'scheduled.done': 'Сообщение будет отправлено {when}.',
    'scheduled.strip': 'Запланировано: {n}',
    'scheduled.stripFailed': 'Не отправлено: {n}',
    'scheduled.listTitle': 'Запланированные сообщения',
    'scheduled.none': 'Запланированных сообщений нет.',
    'scheduled.at': 'Отправка {when}',
    'scheduled.sent': 'Отправлено {when}',
    'scheduled.edit': 'Изменить',
    'scheduled.editTitle': 'Изменить запланированное',
    'scheduled.text': 'Текст',
    'scheduled.cancel': 'Отменить',
    'scheduled.cancelTitle': 'Отменить отправку?',
    'scheduled.cancelConfirm': 'Отменить отправку',
    'scheduled.keep': 'Оставить',
    'scheduled.cancelled': 'Отправка отменена.',
    'scheduled.saved': 'Изменения сохранены.',
    'scheduled.failure.not_in_chat': 'Не отправлено: вы больше не участник чата, или чат удалён.',
    'scheduled.failure.announcement_only': 'Не отправлено: писать в чат теперь могут только его администраторы.',
    'scheduled.failure.chat_read_only': 'Не отправлено: чат стал архивом.',
    'scheduled.failure.muted': 'Не отправлено: модератор временно запретил вам писать в этот чат.',
    'scheduled.failure.blocked': 'Не отправлено: собеседник ограничил личные сообщения от вас.',
    'scheduled.failure.reply_outside_chat': 'Не отправлено: сообщения, на которое вы отвечали, больше нет.',
    'scheduled.failure.other': 'Не отправлено.',
  },
  en: {
    'scheduled.open': 'Send later',
    'scheduled.title': 'Send later',
    'scheduled.submit': 'Schedule',
    'scheduled.today': 'Today at {time}',
    'scheduled.tomorrow': 'Tomorrow at {time}',
    'scheduled.monday': 'On Monday at {time}',
    'scheduled.when': 'Date and time',
    'scheduled.pickTime': 'Choose the date and time to send it.',
    'scheduled.writeFirst': 'Write the message first, then choose when to send it.',
    'scheduled.noFiles': 'Files cannot be sent later: send them now or take them out of the message.',
    'scheduled.done': 'The message will be sent {when}.',
    'scheduled.strip': 'Scheduled: {n}',
    'scheduled.stripFailed': 'Not sent: {n}',
    'scheduled.listTitle': 'Scheduled messages',
    'scheduled.none': 'No scheduled messages.',
    'scheduled.at': 'Sends {when}',
    'scheduled.sent': 'Sent {when}',
    'scheduled.edit': 'Edit',
    'scheduled.editTitle': 'Edit the scheduled message',
    'scheduled.text': 'Text',
    'scheduled.cancel': 'Cancel',
    'scheduled.cancelTitle': 'Cancel sending?',
    'scheduled.cancelConfirm': 'Cancel sending',
    'scheduled.keep': 'Keep it',
    'scheduled.cancelled': 'Sending cancelled.',
    'scheduled.saved': 'Changes saved.',
    'scheduled.failure.not_in_chat': 'Not sent: you are no longer in the chat, or it was deleted.',
    'scheduled.failure.announcement_only': 'Not sent: only the chat\'s admins can post there now.',
    'scheduled.failure.chat_read_only': 'Not sent: the chat became an archive.',
    'scheduled.failure.muted': 'Not sent: a moderator has muted you in this chat for a while.',
    'scheduled.failure.blocked': 'Not sent: this person has blocked direct messages from you.',
    'scheduled.failure.reply_outside_chat': 'Not sent: the message you replied to is gone.',
    'scheduled.failure.other': 'Not sent.',
  },
});

function ensureStyles() {
  if (document.querySelector('link[data-pm-scheduled]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/scheduled.css', 'data-pm-scheduled': '' }));
}

/**
 * Schedules `text` in `chat` at `sendAt` (unix seconds, or a Date). `extra`:
 * `reply_to` (a message id), `mentions` (person ids), `client_id` (a retry's
 * own; a new one otherwise). Resolves to the scheduled message; rejects with
 * the server's ApiError (`scheduled_in_past`, `scheduled_too_far`,
 * `too_many_scheduled`, `message_empty`, …).
 */
export async function scheduleMessage(chat, text, sendAt, extra = {}) {
  const secs = sendAt instanceof Date ? sendAt.getTime() / 1000 : sendAt;
  const body = {
    client_id: extra.client_id || newClientId(),
    text,
    send_at: Math.floor(secs),
    mentions: extra.mentions || [],
  };
  if (extra.reply_to) body.reply_to = extra.reply_to;
  const view = await api.schedule(chat, body);
  window.dispatchEvent(new CustomEvent(SCHEDULED_EVENT, { detail: view }));
  return view;
}

/** A `datetime-local` value in the browser's own time zone. */
function localValue(secs) {
  const d = new Date(secs * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function fromLocal(value) {
  const ms = value ? new Date(value).getTime() : NaN;
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** The usual choices still ahead: today at 18:00, tomorrow at 08:00, Monday at 08:00 before a weekend. */
function quickChoices(now = new Date()) {
  /** @type {(days: number, hour: number) => Date} */
  const at = (days, hour) => {
    const d = new Date(now);
    d.setDate(d.getDate() + days);
    d.setHours(hour, 0, 0, 0);
    return d;
  };
  const time = (d) => fmt.clockTime(d.getTime() / 1000);
  const choices = [];
  const evening = at(0, 18);
  if (evening.getTime() - now.getTime() > 5 * 60 * 1000) choices.push({ label: t('scheduled.today', { time: time(evening) }), when: evening });
  const morning = at(1, 8);
  choices.push({ label: t('scheduled.tomorrow', { time: time(morning) }), when: morning });
  const tomorrow = morning.getDay();
  if (tomorrow === 6 || tomorrow === 0) {
    const monday = at(tomorrow === 6 ? 3 : 2, 8);
    choices.push({ label: t('scheduled.monday', { time: time(monday) }), when: monday });
  }
  return choices;
}

/** The time picker: quick choices that fill a date-and-time field. */
function timePicker(initial) {
  const input = h('input', { type: 'datetime-local', class: 'input', 'data-testid': 'scheduled-when' });
  if (initial) input.value = localValue(initial);
  const buttons = quickChoices().map(({ label, when }) => {
    const b = h('button', { type: 'button', class: 'pm-sched-choice', 'aria-pressed': 'false', 'data-testid': 'scheduled-choice' }, label);
    b.addEventListener('click', () => {
      input.value = localValue(when.getTime() / 1000);
      for (const other of buttons) other.setAttribute('aria-pressed', String(other === b));
    });
    return b;
  });
  input.addEventListener('input', () => {
    for (const b of buttons) b.setAttribute('aria-pressed', 'false');
  });
  const choices = h('div', { class: 'pm-sched-choices', role: 'group', 'aria-label': t('scheduled.title') }, buttons);
  const when = field({ label: t('scheduled.when'), input });
  return { el: h('div', { class: 'pm-sched-picker' }, choices, when.wrap), value: () => fromLocal(input.value) };
}

/**
 * The clock beside «Отправить»: schedules what the composer holds.
 * @param {import('./conversation.js').Conversation} conv
 */
export function scheduleButton(conv) {
  ensureStyles();
  const btn = h('button', {
    type: 'button', class: 'pm-attach pm-sched-open', 'aria-label': t('scheduled.open'), title: t('scheduled.open'),
    'data-testid': 'scheduled-open',
  }, svg(CLOCK));
  btn.addEventListener('click', () => {
    const text = conv.composer.textarea?.value || '';
    if (conv.composer.mode?.kind === 'edit') return;
    if (!text.trim()) {
      conv.composer.composerError.textContent = t('scheduled.writeFirst');
      conv.composer.textarea?.focus();
      return;
    }
    if (conv.composer.tray?.ready().length || conv.composer.tray?.busy()) {
      conv.composer.composerError.textContent = t('scheduled.noFiles');
      return;
    }
    openScheduleForm(conv, text);
  });
  return btn;
}

/** @param {import('./conversation.js').Conversation} conv */
function openScheduleForm(conv, text) {
  const picker = timePicker(null);
  openDialog({
    title: t('scheduled.title'),
    submitLabel: t('scheduled.submit'),
    build: (body) => {
      body.classList.add('pm-sched-form');
      body.append(h('p', { class: 'pm-sched-preview' }, fmt.preview(text, 200)), picker.el);
    },
    onSubmit: async ({ showError }) => {
      const when = picker.value();
      if (when === null) {
        showError(t('scheduled.pickTime'));
        return false;
      }
      const reply = conv.composer.mode?.kind === 'reply' ? conv.composer.mode.message.id : null;
      try {
        await scheduleMessage(conv.id, text, when, { reply_to: reply, mentions: conv.composer.mentions?.take(text) || [] });
      } catch (e) {
        showError(e.text ? e.text() : t('error.unknown'));
        return false;
      }
      conv.composer.clearComposer();
      announce(t('scheduled.done', { when: fmt.fullTime(when) }));
      return true;
    },
  });
}

function failureText(code) {
  return t(FAILURES.includes(code) ? `scheduled.failure.${code}` : 'scheduled.failure.other');
}

/** «Запланировано: N» above the composer, and the list it opens. */
export class ScheduledStrip {
  /** @param {import('./conversation.js').Conversation} conv */
  constructor(conv) {
    ensureStyles();
    this.conv = conv;
    this.items = [];
    this.label = h('span', { class: 'pm-sched-label' });
    this.el = h('button', { type: 'button', class: 'pm-sched-strip', hidden: true, 'data-testid': 'scheduled-strip' },
      svg(CLOCK), this.label);
    this.el.addEventListener('click', () => this.openList());
    this.onScheduled = (e) => {
      if (e.detail?.chat === conv.id) this.refresh();
    };
    window.addEventListener(SCHEDULED_EVENT, this.onScheduled);
    // One of ours went out: the list shows it sent (or the next failed).
    this.off = conv.store.on((c) => {
      const m = c.kind === 'chat' && c.chat === conv.id && c.event?.kind === 'message' ? c.event.message : null;
      if (m && m.author.person === conv.summary?.me && this.pending().length) this.refresh();
    });
  }

  pending() {
    return this.items.filter((s) => s.state === 'pending');
  }

  async refresh() {
    try {
      this.items = await api.scheduled(this.conv.id);
    } catch {
      return;
    }
    if (!this.conv.destroyed) this.render();
  }

  render() {
    const pending = this.pending().length;
    const failed = this.items.filter((s) => s.state === 'failed').length;
    const parts = [];
    if (pending) parts.push(t('scheduled.strip', { n: pending }));
    if (failed) parts.push(t('scheduled.stripFailed', { n: failed }));
    this.label.textContent = parts.join(' · ');
    this.el.hidden = !parts.length;
    this.el.classList.toggle('has-failed', failed > 0);
    if (this.listBody) this.renderList();
    // Asked again when the next one is due, to show it sent or failed.
    clearTimeout(this.timer);
    const next = Math.min(...this.pending().map((s) => s.send_at));
    const wait = (next - Date.now() / 1000 + 2) * 1000;
    if (Number.isFinite(wait) && wait < 2 ** 31 - 1) this.timer = setTimeout(() => this.refresh(), Math.max(wait, 2000));
  }

  openList() {
    openDialog({
      title: t('scheduled.listTitle'),
      build: (body) => {
        body.classList.add('pm-sched-list-body');
        this.listBody = body;
        this.renderList();
      },
    }).then(() => {
      this.listBody = null;
    });
  }

  renderList() {
    const body = clear(this.listBody);
    const shown = this.items.filter((s) => s.state !== 'sent');
    if (!shown.length) {
      body.append(h('p', { class: 'pm-sched-none' }, t('scheduled.none')));
      return;
    }
    body.append(h('ul', { class: 'pm-sched-list' }, shown.map((s) => this.itemEl(s))));
  }

  itemEl(s) {
    const head = s.state === 'failed'
      ? h('p', { class: 'pm-sched-failure', 'data-testid': 'scheduled-failure' }, failureText(s.failure))
      : h('p', { class: 'pm-sched-when' }, t('scheduled.at', { when: fmt.fullTime(s.send_at) }));
    const li = h('li', { class: ['pm-sched-item', s.state === 'failed' && 'is-failed'], 'data-testid': 'scheduled-item', 'data-id': s.id },
      head, h('p', { class: 'pm-sched-text' }, fmt.preview(s.text, 300)));
    if (s.state === 'pending') {
      const edit = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'scheduled-edit' }, t('scheduled.edit'));
      edit.addEventListener('click', () => this.openEdit(s));
      const cancel = h('button', { type: 'button', class: 'pm-link-btn pm-sched-cancel', 'data-testid': 'scheduled-cancel' }, t('scheduled.cancel'));
      cancel.addEventListener('click', () => this.cancel(s));
      li.append(h('div', { class: 'pm-sched-actions' }, edit, cancel));
    }
    return li;
  }

  openEdit(s) {
    const text = h('textarea', { class: 'input pm-sched-textarea', rows: '4', maxlength: '10000', 'data-testid': 'scheduled-text' });
    text.value = s.text;
    const picker = timePicker(s.send_at);
    openDialog({
      title: t('scheduled.editTitle'),
      submitLabel: t('common.save'),
      build: (body) => {
        body.classList.add('pm-sched-form');
        body.append(field({ label: t('scheduled.text'), input: text }).wrap, picker.el);
      },
      onSubmit: async ({ showError }) => {
        const when = picker.value();
        if (when === null) {
          showError(t('scheduled.pickTime'));
          return false;
        }
        const change = {};
        if (text.value !== s.text) change.text = text.value;
        // The field shows minutes: an untouched time keeps its seconds.
        if (localValue(when) !== localValue(s.send_at)) change.send_at = when;
        try {
          await api.editScheduled(s.id, change);
        } catch (e) {
          showError(e.text ? e.text() : t('error.unknown'));
          return false;
        }
        announce(t('scheduled.saved'));
        await this.refresh();
        return true;
      },
    });
  }

  async cancel(s) {
    const ok = await confirmDialog({
      title: t('scheduled.cancelTitle'), text: fmt.preview(s.text, 200),
      confirmLabel: t('scheduled.cancelConfirm'), cancelLabel: t('scheduled.keep'), danger: true,
    });
    if (!ok) return;
    try {
      await api.cancelScheduled(s.id);
      announce(t('scheduled.cancelled'));
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
    await this.refresh();
  }

  destroy() {
    clearTimeout(this.timer);
    window.removeEventListener(SCHEDULED_EVENT, this.onScheduled);
    this.off();
  }
}
