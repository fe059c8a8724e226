// @ts-check
// One open chat: the header (name, members, typing), the pinned bar and the
// message feed (day separators, read marks, infinite scroll up, keyboard
// moves). A message's elements are message-view.js's, its menu
// message-actions.js's, the composer (drafts, reply and edit, optimistic
// sends) composer.js's.

import { h, icon, clear } from '../dom.js';
import { t, plural } from '../i18n.js';
import { announce, notice, spinner, button } from '../ui.js';
import * as fmt from './format.js';
import { closeMenu } from './menu.js';
import { MembersPanel } from './members.js';
import { bindDrops, openFilesPanel, svg, PAPERCLIP } from './attachments.js';
import { callButtons, CallBanner } from './call.js';
import { Receipts } from './receipts.js';
import { ScheduledStrip } from './scheduled.js';
import { Composer } from './composer.js';
import { messageEl, callRecordEl, pendingEl } from './message-view.js';
import { openMessageMenu, toggleReaction } from './message-actions.js';

/** Messages by the same author this close together form one run (one author line). */
const RUN_SECS = 5 * 60;
const NEAR_TOP_PX = 400;
const AT_BOTTOM_PX = 48;

/** When a poll or a consent form in `m` closes by itself (unix seconds), or null. */
function deadlineOf(m) {
  if (m.deleted) return null;
  if (m.poll && !m.poll.closed_at && m.poll.closes_at) return m.poll.closes_at;
  if (m.consent) return m.consent.deadline;
  return null;
}

const KIND_ICON = { class: 'school', staff_room: 'teacher', parents: 'users', subject: 'book', custom: 'chat' };

/**
 * The avatar of a chat: its kind's icon, or the person's initials for a direct chat.
 * @param {import('../types.js').ChatSummary} s
 * @param {string} [cls]
 * @returns {HTMLElement}
 */
export function chatAvatar(s, cls = '') {
  if (s.kind === 'direct') {
    const el = h('span', { class: `pm-ava pm-ava-person ${cls}`, 'aria-hidden': 'true' }, fmt.initialsOf(s.name));
    el.style.setProperty('--hue', fmt.hueOf(s.id));
    return el;
  }
  return h('span', { class: `pm-ava pm-ava-${s.kind} ${cls}`, 'aria-hidden': 'true' }, icon(KIND_ICON[s.kind] || 'chat'));
}

/**
 * «Мария печатает…» from the first names of the people typing.
 * @param {string[]} first
 * @returns {string}
 */
export function typingText(first) {
  if (!first.length) return '';
  if (first.length === 1) return t('chat.typing1', { name: first[0] });
  if (first.length === 2) return t('chat.typing2', { a: first[0], b: first[1] });
  return t('chat.typingMany');
}

export class Conversation {
  /**
   * @param {import('./app.js').ChatApp} app
   * @param {number} id the chat
   */
  constructor(app, id) {
    this.app = app;
    this.store = app.store;
    this.id = id;
    this.cache = new Map();
    this.newCount = 0;
    this.pinIndex = 0;
    this.unreadFrom = null;
    this.firstRender = true;
    this.flags = {};
    /**
     * The consent form whose report is open (consent.js sets it), reloaded when the form changes.
     * @type {{ message: number, reload: () => void } | null | undefined}
     */
    this.consentReport = undefined;
    this.receipts = new Receipts(this);
    this.build();
  }

  get summary() {
    return this.store.chats.get(this.id);
  }

  get data() {
    return this.store.data.get(this.id);
  }

  canPost() {
    const s = this.summary;
    return Boolean(s && !s.read_only && (!s.announcement_only || s.admin));
  }

  // ------------------------------------------------------------ skeleton

  build() {
    const titleId = `pm-conv-title-${this.id}`;
    this.back = h('a', { class: 'pm-icon-btn pm-back', href: '#/', 'aria-label': t('chat.back'), title: t('chat.back') }, icon('back'));
    this.avatarSlot = h('span', { class: 'pm-conv-ava' });
    this.titleEl = h('h2', { id: titleId, class: 'pm-conv-name', tabindex: '-1' });
    this.subEl = h('span', { class: 'pm-conv-sub', 'data-testid': 'chat-sub' });
    this.infoBtn = h('button', {
      type: 'button', class: 'pm-conv-info', 'aria-expanded': 'false', 'data-testid': 'chat-info',
    }, this.avatarSlot, h('span', { class: 'pm-conv-text' }, this.titleEl, this.subEl));
    this.infoBtn.addEventListener('click', () => this.members.toggle());
    this.head = h('header', { class: 'pm-conv-head' }, this.back, this.infoBtn);
    this.filesBtn = h('button', { type: 'button', class: 'pm-icon-btn', 'aria-label': t('files.open'), title: t('files.open'), 'data-testid': 'chat-files' }, svg(PAPERCLIP));
    this.filesBtn.addEventListener('click', () => openFilesPanel(this.id, this.filesBtn));
    this.callBtns = callButtons(this.app.calls, this.id);
    this.head.append(...this.callBtns, this.filesBtn);
    this.callBanner = new CallBanner(this.app.calls, this.id);

    this.pinnedBtn = h('button', { type: 'button', class: 'pm-pinned', hidden: true, 'data-testid': 'pinned-bar' });
    this.pinnedBtn.addEventListener('click', () => this.jumpToPinned());

    this.olderEl = h('div', { class: 'pm-older', role: 'status' });
    this.feed = h('div', {
      class: 'pm-feed', role: 'region', 'aria-label': t('chat.messages'), tabindex: '0', 'data-testid': 'feed',
    }, this.olderEl);
    this.feed.addEventListener('keydown', (e) => this.feedKey(e));
    this.feed.addEventListener('contextmenu', (e) => {
      const art = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('.pm-msg'));
      if (!art || /** @type {Element} */ (e.target).closest('a')) return;
      e.preventDefault();
      openMessageMenu(this, art, { x: e.clientX, y: e.clientY });
    });
    this.feed.addEventListener('click', (e) => this.feedClick(e));
    this.scroller = h('div', { class: 'pm-scroll' }, this.feed);
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    /** Whether the reader is at the newest message: it stays so when the layout changes. */
    this.stick = true;
    if ('ResizeObserver' in window) {
      this.resizer = new ResizeObserver(() => {
        if (this.stick) this.scrollToBottom();
      });
      this.resizer.observe(this.scroller);
      this.resizer.observe(this.feed);
    }

    this.downBadge = h('span', { class: 'pm-down-count', hidden: true });
    this.downBtn = h('button', {
      type: 'button', class: 'pm-down', hidden: true, 'aria-label': t('chat.toBottom'), 'data-testid': 'to-bottom',
    }, icon('down'), h('span', { class: 'pm-down-label' }, t('chat.newMessages')), this.downBadge);
    this.downBtn.addEventListener('click', () => {
      this.scrollToBottom();
      this.onScroll();
    });

    this.composer = new Composer(this);
    this.members = new MembersPanel(this);
    this.scheduled = new ScheduledStrip(this);
    this.body = h('div', { class: 'pm-conv-body' }, this.callBanner.el, this.pinnedBtn,
      h('div', { class: 'pm-scroll-wrap' }, this.scroller, this.downBtn), this.scheduled.el, this.composer.el);
    this.el = h('section', { class: 'pm-conv', 'aria-labelledby': titleId, 'data-chat': this.id },
      this.head, this.body, this.members.el);
    bindDrops(this.body, () => this.composer.tray);
  }

  start() {
    this.renderHeader();
    this.renderCall();
    this.composer.buildComposer();
    this.renderFeed();
    this.store.refreshSummary(this.id);
    this.scheduled.refresh();
    this.store.ensureLoaded(this.id).then(() => {
      if (this.data && this.data.pins === null) this.store.loadPins(this.id);
      this.receipts.refreshSoon();
    });
  }

  destroy() {
    closeMenu({ restoreFocus: false });
    clearTimeout(this.composer.draftTimer);
    this.composer.saveDraft();
    // A closed chat writes no draft any more: the next one of this chat owns it.
    this.destroyed = true;
    clearTimeout(this.deadlineTimer);
    this.scheduled.destroy();
    this.resizer?.disconnect();
    this.el.remove();
  }

  /** Called by the app with what changed since the last frame. */
  render(flags) {
    if (!this.summary) return;
    if (flags.loaded || flags.receipts) this.receipts.refreshSoon();
    if (flags.consent && this.consentReport && flags.consent.has(this.consentReport.message)) this.consentReport.reload();
    this.renderHeader();
    this.renderPinned();
    this.renderFeed(flags);
    if (flags.meta) this.composer.refreshComposerState();
  }

  // ------------------------------------------------------------ header

  renderHeader() {
    const s = this.summary;
    if (!s) return;
    if (this.titleEl.textContent !== s.name) this.titleEl.textContent = s.name;
    const avaKey = `${s.kind}:${s.name}`;
    if (this.avaKey !== avaKey) {
      this.avaKey = avaKey;
      clear(this.avatarSlot).append(chatAvatar(s));
    }
    this.infoBtn.setAttribute('aria-label', `${s.name}. ${t('chat.headerMembers', { name: s.name })}`);
    const typing = typingText(this.store.typingNames(this.id));
    const conn = this.app.connText();
    let sub;
    if (typing) sub = typing;
    else if (conn) sub = conn;
    else if (s.kind === 'direct') sub = t('chats.kind.direct');
    else sub = plural('members', s.members);
    this.subEl.textContent = sub;
    this.subEl.classList.toggle('is-typing', Boolean(typing));
    this.subEl.classList.toggle('is-conn', !typing && Boolean(conn));
    // An archive holds no calls; where only chat admins post, only they
    // start one (the others join from the banner once it runs).
    for (const b of this.callBtns) b.hidden = Boolean(s.read_only || (s.announcement_only && !s.admin));
  }

  /** The banner of a call in this chat that this tab is not in. */
  renderCall() {
    this.callBanner.render();
  }

  // ------------------------------------------------------------ pinned bar

  renderPinned() {
    const pins = this.data?.pins || [];
    if (!pins.length) {
      this.pinnedBtn.hidden = true;
      return;
    }
    if (this.pinIndex >= pins.length) this.pinIndex = 0;
    const p = pins[this.pinIndex];
    const label = pins.length > 1 ? t('chat.pinnedOf', { i: this.pinIndex + 1, n: pins.length }) : t('chat.pinned');
    const key = JSON.stringify([p.id, p.text, label]);
    if (this.pinKey === key && !this.pinnedBtn.hidden) return;
    this.pinKey = key;
    clear(this.pinnedBtn).append(icon('pin'),
      h('span', { class: 'pm-pinned-text' },
        h('span', { class: 'pm-pinned-label' }, label),
        h('span', { class: 'pm-pinned-preview' }, fmt.preview(p.text, 120))));
    this.pinnedBtn.hidden = false;
  }

  async jumpToPinned() {
    const pins = this.data?.pins || [];
    if (!pins.length) return;
    const p = pins[this.pinIndex % pins.length];
    this.pinIndex = (this.pinIndex + 1) % pins.length;
    this.pinKey = null;
    this.renderPinned();
    await this.jumpTo(p.id);
  }

  // ------------------------------------------------------------ feed

  items() {
    const s = this.summary;
    const d = this.data;
    const out = [];
    let lastDay = null;
    let prev = null;
    const direct = s.kind === 'direct';
    const othersRead = s.others_read_seq || 0;
    const now = Date.now() / 1000;
    let nextDeadline = Infinity;
    const dayItem = (secs) => {
      const label = fmt.dayLabel(secs);
      out.push({ key: `d${fmt.dayKey(secs)}`, sig: label, build: () => h('h3', { class: 'pm-day' }, h('span', null, label)) });
    };
    for (const m of d.messages) {
      const day = fmt.dayKey(m.created_at);
      if (day !== lastDay) {
        dayItem(m.created_at);
        lastDay = day;
        prev = null;
      }
      if (this.unreadFrom !== null && m.seq === this.unreadFrom) {
        out.push({
          key: 'unread', sig: t('chat.unreadSeparator'),
          build: () => h('p', { class: 'pm-unread-sep', 'data-testid': 'unread-separator' }, h('span', null, t('chat.unreadSeparator'))),
        });
        prev = null;
      }
      if (m.call && !m.deleted) {
        out.push({ key: `m${m.id}`, sig: JSON.stringify(m.call), build: () => callRecordEl(m) });
        prev = null;
        continue;
      }
      const own = m.author.person === s.me;
      const cont = Boolean(prev && prev.author.person === m.author.person && m.created_at - prev.created_at < RUN_SECS);
      // ✓✓ says "the other person read it" only where there is one other
      // person; a group chat's admins see «Прочитали N из M» instead.
      const status = own && !m.deleted ? (direct && m.seq <= othersRead ? 'read' : 'sent') : null;
      const receipt = this.receipts.of(m);
      const opts = { own, cont, status, direct, receipt };
      // A poll or a form closes at its time with no event: its card is
      // built again then, with the time passed in its signature.
      const deadline = deadlineOf(m);
      const passed = deadline !== null && deadline <= now;
      if (deadline !== null && !passed) nextDeadline = Math.min(nextDeadline, deadline);
      out.push({ key: `m${m.id}`, sig: JSON.stringify([m, status, cont, receipt, passed]), build: () => messageEl(this, m, opts) });
      prev = m;
    }
    const today = Math.floor(Date.now() / 1000);
    // Messages held back for sending too often: the notice goes under the last.
    const lastWaiting = this.store.outboxOf(this.id).filter((it) => it.state === 'waiting').at(-1);
    for (const it of this.store.outboxOf(this.id)) {
      if (it.message_id && d.byId.has(it.message_id)) continue;
      const day = fmt.dayKey(it.created_at || today);
      if (day !== lastDay) {
        dayItem(it.created_at || today);
        lastDay = day;
      }
      const notice = it === lastWaiting;
      out.push({ key: `p${it.client_id}`, sig: JSON.stringify([it, notice]), build: () => pendingEl(this, it, notice) });
    }
    this.redrawAt(nextDeadline);
    return out;
  }

  /** Builds the feed again at `secs` (the next poll or form to close). */
  redrawAt(secs) {
    clearTimeout(this.deadlineTimer);
    if (!Number.isFinite(secs)) return;
    // Timers fire late, never early; a long wait is checked again later.
    const wait = Math.min(Math.max(0, secs * 1000 - Date.now()) + 250, 2 ** 31 - 1);
    this.deadlineTimer = setTimeout(() => {
      if (!this.destroyed) this.renderFeed();
    }, wait);
  }

  renderFeed(flags = {}) {
    const d = this.data;
    const s = this.summary;
    if (!s) return;
    if (!d) {
      clear(this.olderEl).append(spinner());
      return;
    }
    if (d.failed) {
      const retry = button(t('error.retry'), { kind: 'secondary', onClick: () => this.store.ensureLoaded(this.id) });
      clear(this.olderEl).append(notice('error', d.error?.text ? d.error.text() : t('chat.loadError'), retry));
      return;
    }
    const sc = this.scroller;
    const wasBottom = this.firstRender || this.stick;
    const fromBottom = sc.scrollHeight - sc.scrollTop;

    if (this.firstRender) {
      const read = s.last_read_seq || 0;
      const first = d.messages.find((m) => m.seq > read && m.author.person !== s.me && !m.deleted);
      this.unreadFrom = first && d.messages[0] !== first ? first.seq : null;
    }

    // The top line: loading older messages, or the start of the chat.
    const olderKey = d.loadingOlder ? 'loading' : d.hasMore ? 'more' : d.messages.length ? 'start' : 'empty';
    if (this.olderKey !== olderKey) {
      this.olderKey = olderKey;
      clear(this.olderEl);
      this.feed.setAttribute('aria-busy', String(d.loadingOlder));
      if (olderKey === 'loading') this.olderEl.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, t('chat.loadingOlder')));
      else if (olderKey === 'start') this.olderEl.append(h('span', { class: 'pm-start' }, t('chat.historyStart')));
      else if (olderKey === 'empty' && !this.store.outboxOf(this.id).length) this.olderEl.append(h('span', { class: 'pm-start' }, t('chat.noMessages')));
    }

    // Keyed update: only the messages that changed are built again.
    const items = this.items();
    const keep = new Map();
    let prevEl = this.olderEl;
    let refocus = null;
    for (const it of items) {
      while (keep.has(it.key)) it.key += '+';
      let c = this.cache.get(it.key);
      if (!c || c.sig !== it.sig) {
        const el = it.build();
        if (c) {
          if (c.el.contains(document.activeElement)) refocus = el;
          c.el.remove();
        }
        c = { sig: it.sig, el };
      }
      keep.set(it.key, c);
      if (prevEl.nextSibling !== c.el) prevEl.after(c.el);
      prevEl = c.el;
    }
    for (const [k, c] of this.cache) if (!keep.has(k)) c.el.remove();
    this.cache = keep;
    if (refocus) refocus.focus({ preventScroll: true });

    if (this.firstRender) {
      this.firstRender = false;
      const sep = /** @type {HTMLElement | null} */ (this.feed.querySelector('.pm-unread-sep'));
      // The first unread message at the top when the unread ones do not all fit.
      if (sep && sc.scrollHeight - sep.offsetTop > sc.clientHeight) {
        sc.scrollTop = Math.max(0, sep.offsetTop - 24);
        this.stick = this.atBottom();
      } else this.scrollToBottom();
    } else if (flags.older) {
      sc.scrollTop = sc.scrollHeight - fromBottom;
    } else if (wasBottom || flags.sent) {
      this.scrollToBottom();
    } else if (flags.incoming) {
      this.newCount += flags.incoming;
    }
    this.updateDown();
    this.app.tryRead();
    if (sc.scrollTop < NEAR_TOP_PX && d.hasMore && !d.loadingOlder && !flags.older) this.loadOlder();
  }

  atBottom() {
    const sc = this.scroller;
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight < AT_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.newCount = 0;
    this.stick = true;
  }

  onScroll() {
    this.stick = this.atBottom();
    if (this.stick) this.newCount = 0;
    this.updateDown();
    this.app.tryRead();
    const d = this.data;
    if (d && this.scroller.scrollTop < NEAR_TOP_PX && d.hasMore && !d.loadingOlder) this.loadOlder();
  }

  loadOlder() {
    this.store.loadOlder(this.id);
  }

  updateDown() {
    const sc = this.scroller;
    const far = sc.scrollHeight - sc.scrollTop - sc.clientHeight > 240;
    const show = far || this.newCount > 0;
    this.downBtn.hidden = !show;
    this.downBadge.hidden = !this.newCount;
    this.downBadge.textContent = this.newCount ? String(this.newCount) : '';
    this.downBtn.classList.toggle('has-new', this.newCount > 0);
    this.downBtn.setAttribute('aria-label', this.newCount
      ? `${t('chat.newMessages')}: ${this.newCount}` : t('chat.toBottom'));
  }

  /** Scrolls to a message, loading older pages until it is there. */
  async jumpTo(id) {
    for (let i = 0; i < 40 && this.data && !this.data.byId.has(id) && this.data.hasMore; i += 1) {
      const more = await this.store.loadOlder(this.id);
      this.app.flush();
      if (!more) break;
    }
    this.app.flush();
    const el = /** @type {HTMLElement | null} */ (this.feed.querySelector(`.pm-msg[data-id="${id}"]`));
    if (!el) {
      announce(t('chat.notFoundMessage'), { error: true });
      return;
    }
    el.scrollIntoView({ block: 'center' });
    el.classList.remove('pm-flash');
    void el.offsetWidth;
    el.classList.add('pm-flash');
    el.focus({ preventScroll: true });
  }

  // ------------------------------------------------------------ acting on messages

  feedClick(e) {
    const receipts = e.target.closest('.pm-receipts');
    if (receipts) {
      this.receipts.open(Number(receipts.dataset.receipts));
      return;
    }
    const more = e.target.closest('.pm-more');
    if (more) {
      const art = more.closest('.pm-msg');
      openMessageMenu(this, art, more.getBoundingClientRect(), more);
      return;
    }
    const quote = e.target.closest('.pm-quote');
    if (quote && quote.dataset.reply) {
      this.jumpTo(Number(quote.dataset.reply));
      return;
    }
    const react = e.target.closest('.pm-react');
    if (react) {
      const m = this.messageOf(react.closest('.pm-msg'));
      if (m) toggleReaction(this, m, react.dataset.emoji);
    }
  }

  feedKey(e) {
    const arts = () => [.../** @type {NodeListOf<HTMLElement>} */ (this.feed.querySelectorAll('.pm-msg'))];
    const cur = e.target.closest?.('.pm-msg');
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      const list = arts();
      if (!list.length) return;
      e.preventDefault();
      let i = cur ? list.indexOf(cur) : list.length;
      i += e.key === 'ArrowUp' ? -1 : 1;
      if (i < 0) {
        i = 0;
        this.loadOlder();
      }
      if (i >= list.length) {
        if (cur) {
          this.composer.textarea?.focus();
          return;
        }
        i = list.length - 1;
      }
      list[i].focus();
      list[i].scrollIntoView({ block: 'nearest' });
    } else if (cur && e.target === cur && (e.key === 'Enter' || e.key === ' ' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey))) {
      e.preventDefault();
      const r = cur.getBoundingClientRect();
      openMessageMenu(this, cur, { x: r.left + 24, y: r.top + 24, top: r.top }, cur);
    } else if (e.key === 'End' && !cur) {
      this.scrollToBottom();
    }
  }

  messageOf(art) {
    if (!art) return null;
    if (art.dataset.id) return this.data?.byId.get(Number(art.dataset.id)) || null;
    return null;
  }

  focusComposer() {
    if (this.composer.textarea) this.composer.textarea.focus({ preventScroll: true });
    else this.titleEl.focus({ preventScroll: true });
  }
}
