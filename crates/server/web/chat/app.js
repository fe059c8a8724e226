// @ts-check
// Parta Мессенджер's chats: the chat list beside (on a phone: before) the open
// chat. One instance lives while the user is signed in; it owns the store
// and the socket, and renders what changed once per animation frame.

import { h, icon, clear, append } from '../dom.js';
import { t, plural, errorText } from '../i18n.js';
import { announce, notice, spinner, emptyState, button } from '../ui.js';
import { ChatStore } from './store.js';
import { ChatSocket } from './socket.js';
import * as fmt from './format.js';
import { Conversation, chatAvatar, typingText } from './conversation.js';
import { searchButton } from './search.js';
import { CallManager, callBadge } from './call.js';
import { showReminder } from './receipts.js';
import { reminderText as consentReminderText } from './consent.js';

export class ChatApp {
  /**
   * @param {object} o
   * @param {object} o.me MessengerMe
   * @param {(opts?: object) => Node} o.welcome the pane shown when no chat is open
   * @param {() => void} o.onSessionEnded the server ended the session
   * @param {(path: string) => void} o.navigate
   */
  constructor({ me, welcome, onSessionEnded, navigate }) {
    this.me = me;
    this.welcome = welcome;
    this.navigate = navigate;
    this.store = new ChatStore({ accountId: me.account.id });
    this.socket = new ChatSocket({
      positions: () => this.store.positions(),
      onFrame: (f) => {
        if (!this.calls.handleFrame(f)) this.store.handleFrame(f);
      },
      onState: () => this.connChanged(),
      onSessionEnded,
    });
    this.store.socket = this.socket;
    this.store.onIncoming = (id, m) => this.incoming(id, m);
    this.store.onRemoved = (id, name) => this.removed(id, name);
    this.store.onErrorFrame = (f) => announce(errorText(f), { error: true });
    /** The open chat's id, null for none; undefined before the first route(). */
    this.current = undefined;
    this.waitingFor = undefined;
    this.conv = null;
    this.query = '';
    this.dirty = { list: false, conv: null };
    this.attached = false;
    this.startedAt = Date.now();
    this.calls = new CallManager(this);
    /** message id → its `call`: the list previews call records the history has not loaded. */
    this.store.on((c) => this.changed(c));
    this.onFocus = () => {
      this.tryRead();
    };
    window.addEventListener('focus', this.onFocus);
    document.addEventListener('visibilitychange', this.onFocus);
    this.build();
    this.start();
  }

  async start() {
    try {
      await this.store.loadList();
    } catch {
      // Shown in the list with a retry button.
    }
    if (this.destroyed) return;
    this.socket.start();
    // «Соединение…» shows only if connecting takes a moment.
    this.connTimer = setTimeout(() => this.connChanged(), 1200);
  }

  destroy() {
    this.destroyed = true;
    this.socket.stop();
    clearTimeout(this.connTimer);
    this.calls.destroy();
    window.removeEventListener('focus', this.onFocus);
    document.removeEventListener('visibilitychange', this.onFocus);
    this.conv?.destroy();
    this.el.remove();
  }

  // ------------------------------------------------------------ skeleton

  build() {
    const old = this.el;
    this.searchInput = h('input', {
      type: 'search', class: 'input pm-search-input', 'aria-label': t('chat.search'), placeholder: t('chat.searchPlaceholder'),
      autocomplete: 'off', spellcheck: 'false', value: this.query,
    });
    this.searchInput.addEventListener('input', () => {
      this.query = this.searchInput.value;
      this.renderList();
    });
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.searchInput.value) {
        this.searchInput.value = '';
        this.query = '';
        this.renderList();
      } else if (e.key === 'ArrowDown') {
        const first = /** @type {HTMLElement | null} */ (this.listEl.querySelector('.pm-row'));
        if (first) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    this.notifySlot = h('span', { class: 'pm-notify-slot' });
    this.connEl = h('div', { class: 'pm-conn', role: 'status', 'aria-live': 'polite', 'data-testid': 'connection' });
    this.listEl = h('nav', { class: 'pm-list', 'aria-label': t('chat.listLabel'), 'data-testid': 'chats' });
    this.listEl.addEventListener('keydown', (e) => this.listKey(e));
    this.side = h('aside', { class: 'pm-side' },
      h('div', { class: 'pm-side-head' },
        h('h1', { class: 'pm-side-title', tabindex: '-1', id: 'page-h1' }, t('chat.title')),
        this.notifySlot,
        searchButton(this),
        h('a', { class: 'pm-icon-btn', href: '#/settings', 'aria-label': t('chat.settings'), title: t('chat.settings') }, icon('sliders'))),
      this.connEl,
      h('div', { class: 'pm-search' }, icon('search', 'pm-search-icon'), this.searchInput),
      this.listEl);
    this.mainEl = h('div', { class: 'pm-main' });
    this.live = h('div', { class: 'sr-only', 'aria-live': 'polite', 'data-testid': 'live' });
    this.el = h('div', { class: 'pm-app', 'data-testid': 'messenger' }, this.side, this.mainEl, this.live);
    if (old?.parentNode) old.replaceWith(this.el);
    this.calls.mount(this.el);
    this.renderNotify();
    this.renderConn();
    this.renderList();
  }

  /** The language changed: everything is built again in it. */
  relang() {
    const id = this.current;
    this.conv?.destroy();
    this.conv = null;
    this.current = undefined;
    this.build();
    this.calls.relang();
    this.route(id);
  }

  // ------------------------------------------------------------ routing

  /** Shows the chat `id`, or the list and the welcome pane when null. */
  route(id) {
    this.attached = true;
    if (id === this.current && (id === null || this.conv)) {
      this.updateTitle();
      return;
    }
    const from = this.current;
    if (this.conv) {
      this.conv.destroy();
      this.conv = null;
    }
    this.current = id;
    this.waitingFor = undefined;
    this.el.classList.toggle('is-open', id !== null);
    document.body.classList.toggle('pm-chat-open', id !== null);
    if (id === null) {
      clear(this.mainEl).append(h('div', { class: 'pm-welcome' }, this.welcome()));
      this.renderList();
      const row = from && /** @type {HTMLElement | null} */ (this.listEl.querySelector(`.pm-row[data-chat="${from}"]`));
      if (row && getComputedStyle(this.side).display !== 'none') row.focus({ preventScroll: false });
      else this.side.querySelector('h1')?.focus({ preventScroll: true });
    } else if (!this.store.listLoaded) {
      // Opened from an address before the list came: wait for it.
      this.waitingFor = id;
      clear(this.mainEl).append(spinner());
    } else if (!this.store.chats.has(id)) {
      clear(this.mainEl).append(this.notFound());
      this.renderList();
    } else {
      this.conv = new Conversation(this, id);
      clear(this.mainEl).append(this.conv.el);
      this.conv.start();
      this.renderList();
      this.conv.focusComposer();
    }
    this.updateTitle();
  }

  notFound() {
    return h('div', { class: 'pm-welcome' }, h('div', { class: 'pm-welcome-inner' },
      h('a', { class: 'pm-icon-btn pm-back', href: '#/', 'aria-label': t('chat.back') }, icon('back')),
      emptyState(t('chat.notFound'), t('chat.notFoundHint'))));
  }

  detached() {
    this.attached = false;
  }

  // ------------------------------------------------------------ changes

  changed(c) {
    if (c.kind === 'reminder') {
      showReminder(c.frame, c.frame.about === 'consent' ? consentReminderText(c.frame) : undefined);
      return;
    }
    if (c.kind === 'list') this.dirty.list = true;
    else if (c.kind === 'chat' || c.kind === 'typing') {
      this.dirty.list = true;
      if (c.chat === this.current) {
        const f = this.dirty.conv || (this.dirty.conv = {});
        if (c.older) f.older = true;
        if (c.sent) f.sent = true;
        if (c.loaded) f.loaded = true;
        // Read receipts follow read marks and every event, the own message's too.
        if (c.read || c.event || c.sent) f.receipts = true;
        // An open consent report follows the answers.
        if (c.event?.kind === 'consent') (f.consent ||= new Set()).add(c.event.message_id);
        if (c.event?.kind === 'message' && c.event.message.author.person !== this.store.chats.get(c.chat)?.me) {
          f.incoming = (f.incoming || 0) + 1;
        }
      }
    }
    if (c.kind === 'list' && this.conv) {
      const f = this.dirty.conv || (this.dirty.conv = {});
      f.meta = true;
    }
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
    // Background tabs get no animation frames; the title and list still follow.
    this.frameTimer = setTimeout(() => this.flush(), 250);
  }

  flush() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameTimer);
    this.frame = null;
    if (this.destroyed) return;
    const { list, conv } = this.dirty;
    this.dirty = { list: false, conv: null };
    if (this.waitingFor !== undefined && this.store.listLoaded) {
      // Opened before the list came: now it is known whether the chat exists.
      const id = this.waitingFor;
      this.waitingFor = undefined;
      if (id === this.current) {
        this.current = undefined;
        this.route(id);
      }
    }
    if (list) this.renderList();
    if (conv && this.conv) this.conv.render(conv);
    this.updateTitle();
  }

  listChanged() {
    this.dirty.list = true;
    this.schedule();
  }

  /** A call started, changed or ended in a chat: its list row and, when open, its banner. */
  callsChanged(chat) {
    if (chat === this.current) this.conv?.renderCall();
    this.listChanged();
  }

  // ------------------------------------------------------------ the list

  draftOf(id) {
    try {
      return localStorage.getItem(`parta.draft.${this.me.account.id}.${id}`) || '';
    } catch {
      return '';
    }
  }

  renderList() {
    const st = this.store;
    const focused = (/** @type {HTMLElement | null | undefined} */ (document.activeElement?.closest?.('.pm-row')))?.dataset.chat;
    if (!st.listLoaded) {
      if (st.listError) {
        const retry = button(t('error.retry'), { kind: 'secondary', onClick: () => this.store.loadList().catch(() => {}) });
        clear(this.listEl).append(h('div', { class: 'pm-list-pad' }, notice('error', st.listError.text ? st.listError.text() : t('error.unknown'), retry)));
      } else if (!this.listEl.querySelector('.loading')) {
        clear(this.listEl).append(spinner());
      }
      return;
    }
    const all = st.sorted();
    if (!all.length) {
      clear(this.listEl).append(h('div', { class: 'pm-list-pad', 'data-testid': 'chats-empty' },
        emptyState(t('chat.empty'), this.me.profile && this.me.links.length ? t('chat.emptyHint') : t('chat.emptyNoProfile'))));
      return;
    }
    const q = fmt.fold(this.query.trim());
    const shown = q ? all.filter((s) => fmt.fold(s.name).includes(q)) : all;
    if (!shown.length) {
      clear(this.listEl).append(h('p', { class: 'pm-list-pad muted' }, t('chat.noResults')));
      return;
    }
    const orgs = [...new Set(all.map((s) => s.org))];
    let content;
    if (orgs.length > 1) {
      content = orgs.map((org) => {
        const mine = shown.filter((s) => s.org === org);
        if (!mine.length) return null;
        const hid = `pm-org-${org}`;
        return h('section', { class: 'pm-org', 'aria-labelledby': hid },
          h('h2', { class: 'pm-org-title', id: hid }, mine[0].org_name),
          h('ul', { class: 'pm-rows' }, mine.map((s) => this.row(s))));
      });
    } else {
      content = h('ul', { class: 'pm-rows' }, shown.map((s) => this.row(s)));
    }
    append(clear(this.listEl), [content]);
    if (focused) (/** @type {HTMLElement | null | undefined} */ (this.listEl.querySelector(`.pm-row[data-chat="${focused}"]`)))?.focus({ preventScroll: true });
  }

  row(s) {
    const typing = typingText(this.store.typingNames(s.id));
    const draft = s.id !== this.current ? this.draftOf(s.id).trim() : '';
    const lm = s.last_message;
    const pending = this.store.outboxOf(s.id).at(-1);
    const record = lm && this.callRecordOf(lm);
    let previewEl;
    if (typing) {
      previewEl = h('span', { class: 'pm-row-preview is-typing' }, typing);
    } else if (draft) {
      previewEl = h('span', { class: 'pm-row-preview' }, h('span', { class: 'pm-row-draft' }, `${t('chat.draft')}: `), fmt.preview(draft, 80));
    } else if (pending) {
      previewEl = h('span', { class: 'pm-row-preview' }, h('span', { class: 'pm-row-author' }, `${t('chat.you')}: `), fmt.preview(pending.text, 80));
    } else if (record) {
      previewEl = h('span', { class: 'pm-row-preview' }, fmt.callPreview(record));
    } else if (lm) {
      const own = lm.author !== undefined ? lm.author === s.me : false;
      const who = s.kind === 'direct' && !own ? null : own ? t('chat.you') : fmt.shortName(lm.author_name);
      previewEl = h('span', { class: ['pm-row-preview', lm.deleted && 'is-deleted'] },
        who ? h('span', { class: 'pm-row-author' }, `${who}: `) : null,
        lm.deleted ? t('chat.deleted') : lm.preview);
    } else {
      previewEl = h('span', { class: 'pm-row-preview is-empty' }, t('chat.noMessagesPreview'));
    }
    const at = Math.max(lm?.at || 0, pending?.created_at || 0);
    const flags = [];
    if (s.announcement_only) flags.push(h('span', { class: 'pm-row-flag', title: t('chat.announcementOnly') }, icon('megaphone')));
    if (s.read_only) flags.push(h('span', { class: 'pm-row-flag', title: t('chat.readOnly') }, icon('archive')));
    if (this.calls.calls.has(s.id)) flags.push(callBadge());
    const unread = s.unread || 0;
    const a = h('a', {
      class: 'pm-row', href: `#/chat/${s.id}`, 'data-chat': s.id, 'aria-current': s.id === this.current ? 'page' : null,
      'data-testid': 'chat-row',
    },
    chatAvatar(s),
    h('span', { class: 'pm-row-main' },
      h('span', { class: 'pm-row-top' },
        h('span', { class: 'pm-row-name' }, s.name),
        flags,
        at ? h('time', { class: 'pm-row-time', datetime: new Date(at * 1000).toISOString() }, fmt.listTime(at)) : null),
      h('span', { class: 'pm-row-bottom' },
        h('span', { class: 'sr-only' }, `${t(`chats.kind.${s.kind}`)}. `),
        previewEl,
        unread ? h('span', { class: 'pm-badge', 'data-testid': 'unread' },
          h('span', { 'aria-hidden': 'true' }, unread > 99 ? '99+' : String(unread)),
          h('span', { class: 'sr-only' }, `, ${plural('unread', unread)}`)) : null)));
    return h('li', null, a);
  }

  /** The `call` of a chat's last message when it is a call record. */
  callRecordOf(lm) {
    return lm.deleted ? null : lm.call || null;
  }

  listKey(e) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const rows = [.../** @type {NodeListOf<HTMLElement>} */ (this.listEl.querySelectorAll('.pm-row'))];
    const i = rows.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    if (i < 0) return;
    e.preventDefault();
    if (e.key === 'ArrowUp' && i === 0) this.searchInput.focus();
    else rows[Math.max(0, Math.min(rows.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))].focus();
  }

  // ------------------------------------------------------------ connection, title, notifications

  connText() {
    const state = this.socket.state;
    if (state === 'offline') return t('chat.conn.offline');
    if (state === 'connecting' && (this.wasOnline || Date.now() - this.startedAt > 1000)) return t('chat.conn.connecting');
    return '';
  }

  connChanged() {
    if (this.socket.state === 'online') this.wasOnline = true;
    this.renderConn();
    this.conv?.renderHeader();
  }

  renderConn() {
    const text = this.connText();
    const state = this.socket.state;
    clear(this.connEl);
    this.connEl.dataset.state = text ? state : 'online';
    if (text) {
      this.connEl.append(state === 'offline' ? icon('offline') : h('span', { class: 'spinner pm-conn-spin', 'aria-hidden': 'true' }),
        h('span', { class: 'pm-conn-text' }, text),
        state === 'offline' ? h('span', { class: 'pm-conn-hint' }, t('chat.conn.offlineHint')) : null);
    }
  }

  updateTitle() {
    if (!this.attached) return;
    const n = this.store.unreadTotal();
    const name = this.current != null ? this.store.chats.get(this.current)?.name : null;
    const base = name ? `${name} — ${t('msg.name')}` : t('msg.name');
    const title = n ? `(${n}) ${base}` : base;
    if (document.title !== title) document.title = title;
  }

  renderNotify() {
    clear(this.notifySlot);
    if (!('Notification' in window) || Notification.permission !== 'default') return;
    const b = h('button', { type: 'button', class: 'pm-icon-btn', 'aria-label': t('chat.notifyOn'), title: t('chat.notifyOn'), 'data-testid': 'notify-on' }, icon('bell'));
    b.addEventListener('click', async () => {
      let p;
      try {
        p = await Notification.requestPermission();
      } catch {
        p = Notification.permission;
      }
      if (p === 'granted') announce(t('chat.notifyEnabled'));
      else if (p === 'denied') announce(t('chat.notifyDenied'), { error: true });
      this.renderNotify();
      this.side.querySelector('h1')?.focus();
    });
    this.notifySlot.append(b);
  }

  /** Someone else's message arrived (live or replayed). */
  incoming(id, m) {
    const s = this.store.chats.get(id);
    if (!s || !this.socket.isReady) return;
    const visible = document.visibilityState === 'visible' && document.hasFocus();
    const text = m.call ? fmt.callPreview(m.call) : fmt.preview(m.text, 140);
    if (id === this.current && this.attached && visible) {
      const p = h('p', null, t('chat.newFrom', { name: fmt.shortName(m.author.name), text }));
      this.live.append(p);
      while (this.live.childNodes.length > 3) this.live.firstChild.remove();
      return;
    }
    if (!visible && 'Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification(s.name, {
          body: s.kind === 'direct' ? text : `${fmt.shortName(m.author.name)}: ${text}`,
          tag: `parta-chat-${id}`,
          icon: '/assets/logo.svg',
        });
        n.onclick = () => {
          window.focus();
          this.navigate(`/chat/${id}`);
          n.close();
        };
      } catch {
        // Some browsers allow notifications only from a service worker.
      }
    }
  }

  removed(id, name) {
    if (id === this.current) {
      announce(t('chat.left', { name }), { error: true });
      this.navigate('/');
    }
  }

  /** Marks the open chat read when its newest messages are on screen and the tab has the focus. */
  tryRead() {
    const c = this.conv;
    if (!c || !this.attached || c.firstRender) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    if (!c.data || c.data.failed || !c.atBottom()) return;
    this.store.markRead(c.id);
  }

  async openDirect(orgId, person) {
    const s = await this.store.openDirect(orgId, person);
    this.navigate(`/chat/${s.id}`);
    announce(t('chat.directOpened', { name: s.name }));
  }
}
