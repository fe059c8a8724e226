// @ts-check
// «Прочитали 18 семей из 27»: read receipts for a chat's admins (issue 20).
// A parents' chat counts families (a student's guardians: read when any of
// them has), other chats count people; the server counts
// (/api/messenger/chats/{chat}/receipts). A read mark or a new message in the
// open chat refreshes the counts; a count opens who has and has not read, with
// «Напомнить». Recipients of a reminder see it as a notice (`reminder` frame).

import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import { openDialog, spinner, notice, announce, button } from '../ui.js';
import * as fmt from './format.js';

addStrings({
  ru: {
    'receipts.people': 'Прочитали {n} из {total}',
    'receipts.title': 'Кто прочитал',
    'receipts.unread': 'Не прочитали',
    'receipts.read': 'Прочитали',
    'receipts.readAt': 'прочитано {when}',
    'receipts.readEarlier': 'прочитано',
    'receipts.notYet': 'ещё не прочитано',
    'receipts.remind': 'Напомнить',
    'receipts.remindNone': 'Напоминать некому: прочитали все.',
    'receipts.remindedAt': 'Напоминание отправлено {when}. Следующее — не раньше {next}.',
    'receipts.reminded': 'Напоминание отправлено.',
    'receipts.reminder': 'Напоминание в чате «{chat}»: прочитайте сообщение.',
    'receipts.reminderOpen': 'Открыть',
  },
  en: {
    'receipts.people': 'Read by {n} of {total}',
    'receipts.title': 'Who has read it',
    'receipts.unread': 'Not read yet',
    'receipts.read': 'Read',
    'receipts.readAt': 'read {when}',
    'receipts.readEarlier': 'read',
    'receipts.notYet': 'not read yet',
    'receipts.remind': 'Remind',
    'receipts.remindNone': 'Nobody to remind: everyone has read it.',
    'receipts.remindedAt': 'Reminder sent {when}. The next one not before {next}.',
    'receipts.reminded': 'Reminder sent.',
    'receipts.reminder': 'A reminder in «{chat}»: please read the message.',
    'receipts.reminderOpen': 'Open',
  },
});

// «1 семья», «2 семьи», «5 семей»: the count agrees with the number read.
const FAMILIES = {
  ru: { one: 'Прочитали {n} семья из {total}', few: 'Прочитали {n} семьи из {total}', many: 'Прочитали {n} семей из {total}' },
  en: { one: 'Read by {n} family of {total}', other: 'Read by {n} families of {total}' },
};

/** «Прочитали 1 семья из 2» / «Прочитали 18 из 27». */
export function receiptText(unit, read, total) {
  if (unit !== 'family') return t('receipts.people', { n: read, total });
  return fmt.counted(FAMILIES, read, { total });
}

/** «вчера 19:40», «сегодня 08:15», «3 декабря 19:40». */
function when(secs) {
  return `${fmt.dayLabel(secs).toLowerCase()} ${fmt.clockTime(secs)}`;
}

function ensureStyles() {
  if (document.querySelector('link[data-pm-receipts]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/receipts.css', 'data-pm-receipts': '' }));
}

export class Receipts {
  /** @param {import('./conversation.js').Conversation} conv */
  constructor(conv) {
    this.conv = conv;
    this.unit = 'person';
    this.counts = new Map(); // message id → {read, total}
    this.timer = null;
    ensureStyles();
  }

  /** Only a group chat's admins see counts; a direct chat keeps ✓✓. */
  get enabled() {
    const s = this.conv.summary;
    return Boolean(s && s.admin && s.kind !== 'direct');
  }

  /** Read marks and messages come in bursts: one request after them. */
  refreshSoon() {
    if (!this.enabled || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, 300);
  }

  async refresh() {
    const d = this.conv.data;
    if (!this.enabled || !d || !d.messages.length || this.conv.destroyed) return;
    try {
      const from = d.messages[0].seq;
      const res = await api.receipts(this.conv.id, from);
      this.unit = res.unit;
      this.counts = new Map(res.messages.map((m) => [m.message, m]));
      this.conv.renderFeed();
    } catch {
      // The counts are extra: the chat works without them.
    }
  }

  /** The count under a message, or null. */
  of(m) {
    if (!this.enabled || m.deleted || m.call) return null;
    const c = this.counts.get(m.id);
    return c ? receiptText(this.unit, c.read, c.total) : null;
  }

  el(m, text) {
    return h('button', {
      type: 'button', class: 'pm-receipts', tabindex: '-1', 'data-receipts': m.id, 'data-testid': 'receipts',
    }, icon('check'), h('span', null, text));
  }

  /** Who has and has not read a message, with «Напомнить». */
  open(message) {
    const chat = this.conv.id;
    openDialog({
      title: t('receipts.title'),
      build: (body) => {
        body.classList.add('pm-receipts-body');
        const load = async () => {
          clear(body).append(spinner());
          let r;
          try {
            r = await api.receiptReport(chat, message);
          } catch (e) {
            clear(body).append(notice('error', e.text ? e.text() : t('error.unknown')));
            return;
          }
          clear(body).append(...this.report(r, load));
        };
        load();
      },
    });
  }

  report(r, reload) {
    const unread = r.readers.filter((x) => !x.read);
    const read = r.readers.filter((x) => x.read);
    /** @type {HTMLElement[]} */
    const out = [h('p', { class: 'pm-receipts-sum', 'data-testid': 'receipts-sum' }, receiptText(r.unit, r.read, r.total))];
    const group = (title, list, testid) => {
      if (!list.length) return;
      out.push(h('h3', { class: 'pm-receipts-h' }, `${title} · ${list.length}`),
        h('ul', { class: 'pm-receipts-list', 'data-testid': testid }, list.map((x) => this.line(r, x))));
    };
    group(t('receipts.unread'), unread, 'receipts-unread');
    group(t('receipts.read'), read, 'receipts-read');
    const now = Date.now() / 1000;
    const waiting = r.next_reminder_at && r.next_reminder_at > now;
    if (r.reminded_at) {
      out.push(h('p', { class: 'pm-receipts-note' }, t('receipts.remindedAt', { when: when(r.reminded_at), next: when(r.next_reminder_at) })));
    }
    if (!unread.length) out.push(h('p', { class: 'pm-receipts-note' }, t('receipts.remindNone')));
    else if (!waiting) {
      const remind = button(t('receipts.remind'), {
        kind: 'primary',
        iconName: 'bell',
        attrs: { 'data-testid': 'remind' },
        onClick: async () => {
          remind.disabled = true;
          try {
            await api.remind(this.conv.id, r.message);
            announce(t('receipts.reminded'));
          } catch (e) {
            announce(e.text ? e.text() : t('error.unknown'), { error: true });
          }
          reload();
        },
      });
      out.push(remind);
    }
    return out;
  }

  /** «Королёва Алёна — Королёва Мария: прочитано вчера 19:40». */
  line(r, x) {
    const who = (p) => {
      const state = !p.read ? t('receipts.notYet') : p.read_at ? t('receipts.readAt', { when: when(p.read_at) }) : t('receipts.readEarlier');
      return h('span', { class: ['pm-receipts-person', p.read && 'is-read'] }, `${p.name}: ${state}`);
    };
    if (r.unit !== 'family') {
      return h('li', { class: 'pm-receipts-item' }, who({ ...x.people[0], name: x.name }));
    }
    return h('li', { class: 'pm-receipts-item' },
      h('span', { class: 'pm-receipts-student' }, x.name),
      h('span', { class: 'pm-receipts-people' }, x.people.map(who)));
  }
}

/** A reminder frame: a notice for the person asked to read (or `text`). */
export function showReminder(f, text = t('receipts.reminder', { chat: f.chat_name })) {
  const open = () => { location.hash = `#/chat/${f.chat}`; };
  const el = h('div', { class: 'pm-reminder', role: 'alert', 'data-testid': 'reminder' },
    icon('bell'), h('span', null, text),
    button(t('receipts.reminderOpen'), { kind: 'secondary', onClick: () => { el.remove(); open(); } }));
  document.querySelector('.pm-reminder')?.remove();
  document.body.append(el);
  setTimeout(() => el.remove(), 15000);
}
