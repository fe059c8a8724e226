// @ts-check
// The members of a chat: names, roles, chat admins, who is online, and
// «Написать» to open a direct chat (the server decides whether the school's
// policy allows it and says why not).

import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, plural, roleName, lang, formatDate } from '../i18n.js';
import { spinner, notice, announce } from '../ui.js';
import { initialsOf, hueOf } from './format.js';
import '../safeguarding.js';
import { notificationsSection } from './notify.js';

export class MembersPanel {
  /** @param {import('./conversation.js').Conversation} conv */
  constructor(conv) {
    this.conv = conv;
    this.app = conv.app;
    this.isOpen = false;
    this.titleId = `pm-members-${conv.id}`;
    this.list = h('div', { class: 'pm-members-body' });
    this.closeBtn = h('button', {
      type: 'button', class: 'pm-icon-btn', 'aria-label': t('chat.membersClose'), title: t('chat.membersClose'),
    }, icon('x'));
    this.closeBtn.addEventListener('click', () => this.close());
    this.count = h('span', { class: 'pm-members-count' });
    this.el = h('aside', {
      class: 'pm-members', 'aria-labelledby': this.titleId, hidden: true, 'data-testid': 'members-panel',
    },
    h('div', { class: 'pm-members-head' },
      h('h3', { id: this.titleId, class: 'pm-members-title', tabindex: '-1' }, t('chat.members')),
      this.count,
      this.closeBtn),
    this.list);
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.close();
      }
    });
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  async open() {
    this.isOpen = true;
    this.el.hidden = false;
    this.conv.el.classList.add('has-members');
    this.conv.infoBtn.setAttribute('aria-expanded', 'true');
    this.el.querySelector('h3').focus();
    clear(this.list).append(spinner());
    let members;
    try {
      members = await api.members(this.conv.id);
    } catch (e) {
      clear(this.list).append(notice('error', e.text ? e.text() : t('error.unknown')));
      return;
    }
    if (!this.isOpen) return;
    this.render(members);
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.el.hidden = true;
    this.conv.el.classList.remove('has-members');
    this.conv.infoBtn.setAttribute('aria-expanded', 'false');
    this.conv.infoBtn.focus();
  }

  render(members) {
    const s = this.conv.summary;
    if (!s) return;
    const sorted = [...members].sort((a, b) => (b.admin - a.admin) || a.name.localeCompare(b.name, 'ru'));
    this.count.textContent = plural('members', members.length);
    const ul = h('ul', { class: 'pm-member-list' }, sorted.map((m) => this.card(m, s)));
    // Native append writes a null as the text «null»: only what exists goes in.
    const notifications = s.read_only ? null : notificationsSection(s.id);
    clear(this.list).append(...[oversightNotice(s.id), this.settings(s), notifications, ul].filter(Boolean));
  }

  /** For the chat's admins: «Писать могут только администраторы». */
  settings(s) {
    if (!s.admin || s.read_only || s.kind === 'direct') return null;
    const labelId = `pm-ann-${s.id}`;
    const err = h('p', { class: 'pm-member-error', role: 'alert' });
    const sw = h('button', {
      type: 'button', class: 'switch', role: 'switch', 'aria-checked': String(Boolean(s.announcement_only)),
      'aria-labelledby': labelId, 'data-testid': 'announcement-switch',
    }, h('span', { class: 'switch-thumb' }));
    sw.addEventListener('click', async () => {
      const next = sw.getAttribute('aria-checked') !== 'true';
      err.textContent = '';
      sw.disabled = true;
      try {
        const sum = await api.updateChat(s.id, { announcement_only: next });
        this.app.store.mergeSummary(sum);
        this.app.store.emit({ kind: 'list' });
        sw.setAttribute('aria-checked', String(Boolean(sum.announcement_only)));
        announce(sum.announcement_only ? t('chat.announcementOn') : t('chat.announcementOff'));
      } catch (e) {
        err.textContent = e.text ? e.text() : t('error.unknown');
      } finally {
        sw.disabled = false;
        sw.focus();
      }
    });
    return h('section', { class: 'pm-chat-settings', 'aria-labelledby': `${labelId}-h` },
      h('h4', { id: `${labelId}-h`, class: 'pm-settings-title' }, t('chat.settingsTitle')),
      h('div', { class: 'pm-switch-row' },
        h('div', { class: 'pm-switch-text' },
          h('span', { id: labelId, class: 'switch-label' }, t('chat.announcementToggle')),
          h('span', { class: 'muted small' }, t('chat.announcementToggleHint'))),
        sw),
      err);
  }

  card(m, s) {
    const me = m.person === s.me;
    const err = h('p', { class: 'pm-member-error', role: 'alert' });
    const ava = h('span', { class: 'pm-ava pm-ava-person', 'aria-hidden': 'true' }, initialsOf(m.name),
      m.online ? h('span', { class: 'pm-dot' }) : null);
    ava.style.setProperty('--hue', hueOf(m.person));
    const meta = [roleName(m.role)];
    const li = h('li', { class: 'pm-member', 'data-person': m.person },
      ava,
      h('div', { class: 'pm-member-text' },
        h('p', { class: 'pm-member-name' }, h('span', null, m.name),
          me ? h('span', { class: 'pm-member-me' }, ` (${t('chat.itsYou')})`) : null),
        h('p', { class: 'pm-member-meta' },
          h('span', null, meta.join(' · ')),
          m.admin ? h('span', { class: 'pm-admin-badge', title: t('chat.adminLong') }, t('chat.admin')) : null,
          h('span', { class: m.online ? 'pm-online' : 'sr-only' }, m.online ? t('chat.online') : t('chat.notOnline')))));
    const text = li.querySelector('.pm-member-text');
    const direct = s.kind === 'direct';
    if (!me && !direct) {
      const write = h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm pm-member-write', 'aria-label': t('chat.writeTo', { name: m.name }),
      }, icon('chat'), h('span', { class: 'btn-label' }, t('chat.write')));
      write.addEventListener('click', async () => {
        err.textContent = '';
        write.disabled = true;
        try {
          await this.app.openDirect(s.org, m.person);
        } catch (e) {
          err.textContent = e.text ? e.text() : t('error.unknown');
        } finally {
          write.disabled = false;
        }
      });
      text.append(write);
    }
    if (!me && direct) text.append(blockButton(s.id, err));
    text.append(err);
    return li;
  }
}

/** «Администрация школы открывала этот чат N раз за 30 дней» with the dates;
 * empty (and hidden) when nobody opened it. */
function oversightNotice(chat) {
  const el = h('p', { class: 'pm-oversight notice notice-info', 'data-testid': 'oversight-notice', hidden: true });
  api.oversightNotice(chat).then(({ dates }) => {
    if (!dates.length) return;
    const n = dates.length;
    el.textContent = t('sg.oversight', { n, times: t(`sg.times.${new Intl.PluralRules(lang()).select(n)}`) })
      + dates.map((d) => formatDate(d)).join(', ');
    el.hidden = false;
  }, () => {});
  return el;
}

/** «Заблокировать» the other person of a direct chat (group chats never change). */
function blockButton(chat, err) {
  const btn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'block-toggle' });
  let blocked = false;
  const show = () => {
    btn.textContent = blocked ? t('sg.unblock') : t('sg.block');
  };
  show();
  api.blockState(chat).then((b) => {
    blocked = b.blocked;
    show();
  }, () => {});
  btn.addEventListener('click', async () => {
    err.textContent = '';
    btn.disabled = true;
    try {
      await api.setBlocked(chat, !blocked);
      blocked = !blocked;
      show();
      announce(blocked ? t('sg.blockedDone') : t('sg.unblockedDone'));
    } catch (e) {
      err.textContent = e.text ? e.text() : t('error.unknown');
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}
