// @ts-check
// One open chat: the header (name, members, typing), the pinned bar, the
// message feed (day separators, replies, reactions, read marks, infinite
// scroll up) and the composer (drafts, reply and edit, optimistic sends).

import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, plural, errorText } from '../i18n.js';
import { announce, confirmDialog, notice, spinner, button } from '../ui.js';
import { REACTIONS } from './store.js';
import { newClientId } from './outbox.js';
import * as fmt from './format.js';
import { openMenu, closeMenu } from './menu.js';
import { MentionPicker, markMentions } from './mentions.js';
import { MembersPanel } from './members.js';
import { AttachmentTray, attachmentsEl, bindDrops, openFilesPanel, svg, PAPERCLIP } from './attachments.js';
import { callButtons, CallBanner } from './call.js';
import { PHONE, CAMERA } from './call-icons.js';
import { reportDialog, hiddenText } from '../safeguarding.js';
import { Receipts } from './receipts.js';
import { pollButton, pollEl } from './polls.js';
import { consentButton, consentEl } from './consent.js';
import { scheduleButton, ScheduledStrip, scheduleMessage } from './scheduled.js';

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

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;

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

/** Text with its web addresses as links; never HTML. */
function richText(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = /[.,;:!?)»]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
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
    this.mode = null; // {kind: 'reply'|'edit', message}
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
      this.menuFor(art, { x: e.clientX, y: e.clientY });
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

    this.composer = h('div', { class: 'pm-composer' });
    this.members = new MembersPanel(this);
    this.scheduled = new ScheduledStrip(this);
    this.body = h('div', { class: 'pm-conv-body' }, this.callBanner.el, this.pinnedBtn,
      h('div', { class: 'pm-scroll-wrap' }, this.scroller, this.downBtn), this.scheduled.el, this.composer);
    this.el = h('section', { class: 'pm-conv', 'aria-labelledby': titleId, 'data-chat': this.id },
      this.head, this.body, this.members.el);
    bindDrops(this.body, () => this.tray);
  }

  start() {
    this.renderHeader();
    this.renderCall();
    this.buildComposer();
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
    clearTimeout(this.draftTimer);
    this.saveDraft();
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
    if (flags.meta) this.refreshComposerState();
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
        out.push({ key: `m${m.id}`, sig: JSON.stringify(m.call), build: () => this.callRecordEl(m) });
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
      out.push({ key: `m${m.id}`, sig: JSON.stringify([m, status, cont, receipt, passed]), build: () => this.messageEl(m, opts) });
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
      out.push({ key: `p${it.client_id}`, sig: JSON.stringify([it, notice]), build: () => this.pendingEl(it, notice) });
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

  // ------------------------------------------------------------ one message

  messageEl(m, { own, cont, status, direct, receipt }) {
    const s = this.summary;
    const bubble = h('div', { class: 'pm-bubble' });
    if (!own && !direct && !cont) {
      const author = h('p', { class: 'pm-author' }, fmt.shortName(m.author.name));
      author.style.setProperty('--hue', fmt.hueOf(m.author.person));
      bubble.append(author);
    } else {
      bubble.append(h('span', { class: 'sr-only' }, `${own ? t('chat.you') : fmt.shortName(m.author.name)}: `));
    }
    let textEl;
    if (m.hidden) {
      textEl = h('p', { class: 'pm-text pm-tomb', 'data-testid': 'hidden-message' }, icon('alert'), h('span', null, hiddenText(m)));
    } else if (m.deleted) {
      textEl = h('p', { class: 'pm-text pm-tomb' }, icon('trash'), h('span', null, t('chat.deleted')));
    } else {
      if (m.reply_to) bubble.append(this.quoteEl(m.reply_to));
      if (m.attachments?.length) bubble.append(attachmentsEl(m));
      textEl = h('p', { class: 'pm-text' }, markMentions(richText(m.text), m.mentions));
    }
    if (m.urgent && !m.deleted) bubble.append(h('p', { class: 'pm-urgent', 'data-testid': 'urgent-badge' }, t('chat.urgent')));
    bubble.append(textEl);
    if (m.poll && !m.deleted) bubble.append(pollEl(this, m));
    if (m.consent && !m.deleted) bubble.append(consentEl(this, m));
    // The time sits at the end of the last line when there is room (a float).
    const meta = h('span', { class: 'pm-meta' });
    if (m.pinned && !m.deleted) meta.append(h('span', { class: 'pm-pin-mark', title: t('chat.pinned') }, icon('pin'), h('span', { class: 'sr-only' }, t('chat.pinned'))));
    if (m.edited_at && !m.deleted) {
      meta.append(h('span', { class: 'pm-edited', title: t('chat.editedAt', { date: fmt.fullTime(m.edited_at) }) }, t('chat.edited')));
    }
    meta.append(h('time', { class: 'pm-time', datetime: new Date(m.created_at * 1000).toISOString(), title: fmt.fullTime(m.created_at) },
      fmt.clockTime(m.created_at)));
    if (status) meta.append(this.statusEl(status));
    textEl.append(meta);

    const art = h('article', {
      class: ['pm-msg', own && 'pm-own', cont && 'pm-cont', m.deleted && 'pm-deleted'],
      id: `pm-m-${m.id}`, 'data-id': m.id, 'data-seq': m.seq, tabindex: '-1', 'data-testid': 'message',
    }, bubble);
    if (!m.deleted && m.reactions?.length) art.append(this.reactionsEl(m, s));
    if (receipt) art.append(this.receipts.el(m, receipt));
    if (!m.deleted) {
      art.append(h('button', {
        type: 'button', class: 'pm-more', tabindex: '-1', 'aria-haspopup': 'menu', 'aria-label': t('chat.actions'), title: t('chat.actions'),
      }, icon('more')));
    }
    return art;
  }

  /** A call's record: a small card in the middle of the feed, not a bubble. */
  callRecordEl(m) {
    const { main, note } = fmt.callRecordText(m.call);
    const failed = m.call.outcome === 'missed' || m.call.outcome === 'declined';
    return h('div', { class: ['pm-call-record', failed && 'is-missed'], 'data-id': m.id, 'data-testid': 'call-record', 'data-outcome': m.call.outcome },
      h('span', { class: 'pm-call-record-icon', 'aria-hidden': 'true' }, svg(m.call.kind === 'video' ? CAMERA : PHONE)),
      h('span', { class: 'pm-call-record-text' },
        h('span', { class: 'pm-call-record-main' }, main),
        note ? h('span', { class: 'pm-call-record-note' }, note) : null),
      h('time', { class: 'pm-time', datetime: new Date(m.created_at * 1000).toISOString(), title: fmt.fullTime(m.created_at) },
        fmt.clockTime(m.created_at)));
  }

  quoteEl(r) {
    const q = h('button', { type: 'button', class: 'pm-quote', tabindex: '-1', 'data-reply': r.id, 'data-testid': 'quote' },
      h('span', { class: 'pm-quote-author' }, fmt.shortName(r.author_name)),
      h('span', { class: 'pm-quote-text' }, r.deleted ? t('chat.deleted') : r.preview));
    return q;
  }

  statusEl(status) {
    const map = {
      sending: ['clock', t('chat.status.sending')],
      sent: ['sent', t('chat.status.sent')],
      read: ['read', t('chat.status.read')],
      failed: ['alert', t('chat.status.failed')],
    };
    const [ic, label] = map[status];
    return h('span', { class: `pm-status pm-status-${status}`, title: label, 'data-status': status },
      icon(ic), h('span', { class: 'sr-only' }, label));
  }

  reactionsEl(m, s) {
    return h('div', { class: 'pm-reacts', role: 'group', 'aria-label': t('chat.reactions') }, m.reactions.map((r) => {
      const mine = r.people.includes(s.me);
      const label = mine ? t('chat.reactionMine', { emoji: r.emoji, n: r.people.length }) : t('chat.reactionLabel', { emoji: r.emoji, n: r.people.length });
      return h('button', {
        type: 'button', class: 'pm-react', tabindex: '-1', 'aria-pressed': String(mine), 'aria-label': label, title: label,
        'data-emoji': r.emoji, disabled: s.read_only,
      }, h('span', { class: 'pm-react-emoji', 'aria-hidden': 'true' }, r.emoji), h('span', { class: 'pm-react-n', 'aria-hidden': 'true' }, String(r.people.length)));
    }));
  }

  pendingEl(it, waitNotice = false) {
    const bubble = h('div', { class: 'pm-bubble' }, h('span', { class: 'sr-only' }, `${t('chat.you')}: `));
    if (it.reply) bubble.append(this.quoteEl(it.reply));
    const status = it.state === 'failed' ? 'failed' : it.state === 'sent' ? 'sent' : 'sending';
    bubble.append(h('p', { class: 'pm-text' }, richText(it.text), h('span', { class: 'pm-meta' },
      h('time', { class: 'pm-time' }, fmt.clockTime(it.created_at)), this.statusEl(status))));
    const art = h('article', {
      class: ['pm-msg', 'pm-own', 'pm-pending', it.state === 'failed' && 'pm-failed'],
      'data-client': it.client_id, tabindex: '-1', 'data-testid': 'message',
    }, bubble);
    if (it.state === 'failed') {
      const retry = h('button', { type: 'button', class: 'pm-link-btn' }, t('chat.retry'));
      retry.addEventListener('click', () => this.store.retry(it.client_id));
      const drop = h('button', { type: 'button', class: 'pm-link-btn' }, t('chat.discard'));
      drop.addEventListener('click', () => {
        this.store.discard(it.client_id);
        this.textarea?.focus();
      });
      art.append(h('div', { class: 'pm-fail', role: 'alert', 'data-testid': 'send-error' },
        icon('alert'), h('span', { class: 'pm-fail-text' }, errorText(it.error)), retry, drop));
    }
    if (waitNotice) {
      art.append(h('div', { class: 'pm-wait', role: 'status', 'data-testid': 'send-waiting' },
        icon('clock'), h('span', {}, t('chat.rateLimited'))));
    }
    return art;
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
      this.menuFor(art, more.getBoundingClientRect(), more);
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
      if (m) this.toggleReaction(m, react.dataset.emoji);
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
          this.textarea?.focus();
          return;
        }
        i = list.length - 1;
      }
      list[i].focus();
      list[i].scrollIntoView({ block: 'nearest' });
    } else if (cur && e.target === cur && (e.key === 'Enter' || e.key === ' ' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey))) {
      e.preventDefault();
      const r = cur.getBoundingClientRect();
      this.menuFor(cur, { x: r.left + 24, y: r.top + 24, top: r.top }, cur);
    } else if (e.key === 'End' && !cur) {
      this.scrollToBottom();
    }
  }

  messageOf(art) {
    if (!art) return null;
    if (art.dataset.id) return this.data?.byId.get(Number(art.dataset.id)) || null;
    return null;
  }

  menuFor(art, at, opener) {
    const s = this.summary;
    if (art.dataset.client) {
      const it = this.store.outboxOf(this.id).find((x) => x.client_id === art.dataset.client);
      if (!it) return;
      /** @type {{ label: string, icon?: string, danger?: boolean, onSelect: Function }[]} */
      const items = [{ label: t('chat.copy'), icon: 'copy', onSelect: () => this.copy(it.text) }];
      if (it.state === 'failed') {
        items.unshift({ label: t('chat.retry'), icon: 'send', onSelect: () => this.store.retry(it.client_id) });
        items.push({ label: t('chat.discard'), icon: 'trash', danger: true, onSelect: () => this.store.discard(it.client_id) });
      }
      openMenu({ label: t('chat.actions'), items, opener: opener || art, at });
      return;
    }
    const m = this.messageOf(art);
    if (!m || m.deleted) return;
    const own = m.author.person === s.me;
    const live = !s.read_only;
    const items = [];
    if (this.canPost()) items.push({ label: t('chat.reply'), icon: 'reply', onSelect: () => this.startReply(m) });
    if (own && this.canPost()) items.push({ label: t('chat.edit'), icon: 'edit', onSelect: () => this.startEdit(m) });
    items.push({ label: t('chat.copy'), icon: 'copy', onSelect: () => this.copy(m.text) });
    if (m.reply_to && !m.reply_to.deleted) items.push({ label: t('chat.showOriginal'), icon: 'chevron', onSelect: () => this.jumpTo(m.reply_to.id) });
    if (s.admin && live) {
      items.push(m.pinned
        ? { label: t('chat.unpin'), icon: 'pin', onSelect: () => this.setPinned(m, false) }
        : { label: t('chat.pin'), icon: 'pin', onSelect: () => this.setPinned(m, true) });
    }
    if ((own || s.admin) && live) items.push({ label: t('chat.delete'), icon: 'trash', danger: true, onSelect: () => this.remove(m) });
    if (!own && !m.call) items.push({ label: t('sg.report'), icon: 'alert', onSelect: () => reportDialog(this.id, m) });
    const reactions = live ? REACTIONS.map((emoji) => ({
      emoji,
      label: t('chat.react', { emoji }),
      pressed: Boolean(m.reactions?.find((r) => r.emoji === emoji)?.people.includes(s.me)),
      onSelect: () => this.toggleReaction(m, emoji),
    })) : [];
    openMenu({ label: t('chat.actions'), reactions, reactionsLabel: t('chat.reactions'), items, opener: opener || art, at });
  }

  async toggleReaction(m, emoji) {
    const s = this.summary;
    const mine = Boolean(m.reactions?.find((r) => r.emoji === emoji)?.people.includes(s.me));
    try {
      if (mine) await api.unreact(this.id, m.id, emoji);
      else await api.react(this.id, m.id, emoji);
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  }

  async setPinned(m, pinned) {
    try {
      if (pinned) await api.pin(this.id, m.id);
      else await api.unpin(this.id, m.id);
      announce(pinned ? t('chat.pinnedDone') : t('chat.unpinnedDone'));
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  }

  async remove(m) {
    const own = m.author.person === this.summary.me;
    const ok = await confirmDialog({
      title: t('chat.deleteTitle'),
      text: own ? t('chat.deleteText') : t('chat.deleteOtherText', { name: m.author.name }),
      confirmLabel: t('chat.deleteConfirm'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteMessage(this.id, m.id);
      announce(t('chat.deletedDone'));
      if (this.mode?.message?.id === m.id) this.cancelMode();
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  }

  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = h('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    announce(t('chat.copied'));
  }

  // ------------------------------------------------------------ composer

  draftKey() {
    return `parta.draft.${this.app.me.account.id}.${this.id}`;
  }

  loadDraft() {
    try {
      return localStorage.getItem(this.draftKey()) || '';
    } catch {
      return '';
    }
  }

  saveDraft() {
    if (this.destroyed || !this.textarea || this.mode?.kind === 'edit') return;
    try {
      const v = this.textarea.value;
      if (v.trim()) localStorage.setItem(this.draftKey(), v);
      else localStorage.removeItem(this.draftKey());
    } catch {
      // Drafts are a convenience.
    }
  }

  buildComposer() {
    clear(this.composer);
    this.textarea = null;
    const s = this.summary;
    this.postable = this.canPost();
    if (!s) return;
    if (!this.postable) {
      const text = s.read_only ? t('chat.readOnly') : t('chat.announcementOnly');
      this.tray = null;
      this.composer.append(h('p', { class: 'pm-locked', 'data-testid': 'composer-locked' },
        icon(s.read_only ? 'archive' : 'megaphone'), h('span', null, text)));
      return;
    }
    const hintId = `pm-hint-${this.id}`;
    this.bar = h('div', { class: 'pm-bar', hidden: true });
    this.composerError = h('p', { class: 'pm-composer-error', role: 'alert' });
    this.textarea = h('textarea', {
      class: 'pm-input', rows: '1', 'aria-label': t('chat.composer'), placeholder: t('chat.composerPlaceholder'),
      'aria-describedby': hintId, 'data-testid': 'composer', maxlength: '10000',
    });
    this.textarea.value = this.loadDraft();
    this.mentions = new MentionPicker(this.textarea, this.id, s.me);
    this.sendBtn = h('button', { type: 'submit', class: 'pm-send', 'aria-label': t('chat.send'), title: t('chat.send') }, icon('send'));
    const form = h('form', { class: 'pm-form', novalidate: true },
      this.bar, this.composerError,
      this.mentions.el,
      h('div', { class: 'pm-input-row' }, this.textarea, scheduleButton(this), this.sendBtn),
      h('p', { id: hintId, class: 'sr-only' }, t('chat.composerHint')));
    this.tray = new AttachmentTray(this.id, () => {
      this.sendBtn.disabled = this.tray.busy();
    });
    const consent = consentButton(this);
    form.querySelector('.pm-input-row').prepend(this.tray.button, this.tray.input, pollButton(this), ...(consent ? [consent] : []));
    form.insertBefore(this.tray.el, form.querySelector('.pm-input-row'));
    this.quietEl = h('div', { class: 'pm-quiet', hidden: true, 'data-testid': 'quiet-banner' });
    form.insertBefore(this.quietEl, form.querySelector('.pm-input-row'));
    this.urgentBtn = null;
    if (s.admin) {
      // «Срочно» cuts through quiet hours and everyone's choices: a chat admin's only.
      this.urgentBtn = h('button', {
        type: 'button', class: 'pm-urgent-toggle', 'aria-pressed': 'false', title: t('chat.urgentToggle'),
        'data-testid': 'urgent-toggle',
      }, t('chat.urgent'));
      this.urgentBtn.addEventListener('click', () => {
        const on = this.urgentBtn.getAttribute('aria-pressed') !== 'true';
        this.urgentBtn.setAttribute('aria-pressed', String(on));
      });
      // Above the input, not in its row: a phone's row has no room for it.
      form.insertBefore(this.urgentBtn, form.querySelector('.pm-input-row'));
    }
    this.checkQuiet();
    form.insertBefore(this.tray.error, this.tray.el);
    this.tray.listenPaste(this.textarea);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.ctrlKey && !e.altKey && !e.metaKey) {
        e.preventDefault();
        this.submit();
      } else if (e.key === 'Escape' && this.mode) {
        e.preventDefault();
        this.cancelMode();
      } else if (e.key === 'ArrowUp' && !this.textarea.value && !this.mode) {
        const mine = [...(this.data?.messages || [])].reverse().find((m) => m.author.person === s.me && !m.deleted);
        if (mine) {
          e.preventDefault();
          this.startEdit(mine);
        }
      }
    });
    this.textarea.addEventListener('input', () => {
      this.autosize();
      this.composerError.textContent = '';
      if (this.mode?.kind !== 'edit') {
        clearTimeout(this.draftTimer);
        this.draftTimer = setTimeout(() => {
          if (this.destroyed) return;
          this.saveDraft();
          this.app.listChanged();
        }, 300);
        if (this.textarea.value.trim()) this.store.typed(this.id);
      }
    });
    this.composer.append(form);
    requestAnimationFrame(() => this.autosize());
  }

  /** The school's quiet hours now: the banner says when notifications resume, and offers to send then. */
  async checkQuiet() {
    const el = this.quietEl;
    let quiet;
    try {
      quiet = await api.chatQuiet(this.id);
    } catch {
      return; // Only a hint: the composer works without it.
    }
    if (this.destroyed || el !== this.quietEl) return;
    clear(el);
    el.hidden = !quiet.quiet;
    if (!quiet.quiet) return;
    const later = h('button', { type: 'button', class: 'pm-quiet-send', 'data-testid': 'send-morning' }, t('chat.sendMorning'));
    later.addEventListener('click', () => this.sendLater(quiet, later));
    el.append(icon('clock'), h('span', null, t('chat.quietNow', { time: quiet.until_local })), later);
  }

  async sendLater(quiet, btn) {
    const text = this.textarea?.value.trim();
    if (!text) {
      this.composerError.textContent = t('chat.writeFirst');
      return;
    }
    btn.disabled = true;
    try {
      await scheduleMessage(this.id, text, quiet.until, { client_id: newClientId() });
      this.clearComposer();
      announce(t('chat.scheduledFor', { time: quiet.until_local }));
      this.composerError.textContent = '';
    } catch (e) {
      this.composerError.textContent = e.text ? e.text() : t('error.unknown');
    } finally {
      btn.disabled = false;
    }
  }

  /** Announcement-only or read-only changed: the composer follows. */
  refreshComposerState() {
    if (this.canPost() !== this.postable) this.buildComposer();
  }

  autosize() {
    const ta = this.textarea;
    if (!ta) return;
    const stick = this.stick;
    ta.style.height = 'auto';
    const max = Math.max(120, Math.round(window.innerHeight * 0.35));
    ta.style.height = `${Math.min(ta.scrollHeight + 2, max)}px`;
    ta.style.overflowY = ta.scrollHeight + 2 > max ? 'auto' : 'hidden';
    if (stick) this.scrollToBottom();
  }

  showBar(kind, m) {
    clear(this.bar);
    const cancel = h('button', {
      type: 'button', class: 'pm-icon-btn pm-bar-cancel', 'aria-label': kind === 'edit' ? t('chat.cancelEdit') : t('chat.cancelReply'),
      title: kind === 'edit' ? t('chat.cancelEdit') : t('chat.cancelReply'),
    }, icon('x'));
    cancel.addEventListener('click', () => this.cancelMode());
    this.bar.append(icon(kind === 'edit' ? 'edit' : 'reply'),
      h('div', { class: 'pm-bar-text' },
        h('p', { class: 'pm-bar-title' }, kind === 'edit' ? t('chat.editing') : t('chat.replyTo', { name: fmt.shortName(m.author.name) })),
        h('p', { class: 'pm-bar-preview' }, fmt.preview(m.text, 140))),
      cancel);
    this.bar.hidden = false;
    this.bar.dataset.kind = kind;
  }

  startReply(m) {
    if (!this.textarea) return;
    if (this.mode?.kind === 'edit') this.restoreAfterEdit();
    this.mode = { kind: 'reply', message: m };
    this.showBar('reply', m);
    this.textarea.focus();
  }

  startEdit(m) {
    if (!this.textarea) return;
    if (this.mode?.kind !== 'edit') this.saveDraft();
    this.mode = { kind: 'edit', message: m };
    this.showBar('edit', m);
    this.textarea.value = m.text;
    this.sendBtn.setAttribute('aria-label', t('chat.saveEdit'));
    this.sendBtn.title = t('chat.saveEdit');
    clear(this.sendBtn).append(icon('check'));
    this.autosize();
    this.textarea.focus();
    this.textarea.setSelectionRange(this.textarea.value.length, this.textarea.value.length);
  }

  restoreAfterEdit() {
    this.textarea.value = this.loadDraft();
    this.sendBtn.setAttribute('aria-label', t('chat.send'));
    this.sendBtn.title = t('chat.send');
    clear(this.sendBtn).append(icon('send'));
    this.autosize();
  }

  cancelMode() {
    if (!this.mode || !this.textarea) return;
    const wasEdit = this.mode.kind === 'edit';
    this.mode = null;
    this.bar.hidden = true;
    clear(this.bar);
    this.composerError.textContent = '';
    if (wasEdit) this.restoreAfterEdit();
    this.textarea.focus();
  }

  async submit() {
    const ta = this.textarea;
    if (!ta) return;
    const text = ta.value;
    const files = this.mode?.kind === 'edit' || !this.tray ? [] : this.tray.ready();
    if (this.tray?.busy() && this.mode?.kind !== 'edit') {
      this.composerError.textContent = t('files.wait');
      return;
    }
    if (!text.trim() && !files.length) return;
    if (this.mode?.kind === 'edit') {
      const m = this.mode.message;
      if (text.trim() === m.text) {
        this.cancelMode();
        return;
      }
      this.sendBtn.disabled = true;
      try {
        await api.editMessage(this.id, m.id, text);
        this.cancelMode();
      } catch (e) {
        this.composerError.textContent = e.text ? e.text() : t('error.unknown');
      } finally {
        this.sendBtn.disabled = false;
      }
      return;
    }
    const reply = this.mode?.kind === 'reply' ? this.mode.message : null;
    const urgent = this.urgentBtn?.getAttribute('aria-pressed') === 'true';
    this.store.send(this.id, text, reply, files, this.mentions.take(text), urgent);
    this.urgentBtn?.setAttribute('aria-pressed', 'false');
    this.clearComposer();
  }

  /** What the composer held was sent (or scheduled): an empty field, no draft, no reply. */
  clearComposer() {
    const ta = this.textarea;
    if (!ta) return;
    this.tray?.clear();
    ta.value = '';
    try {
      localStorage.removeItem(this.draftKey());
    } catch {
      // Nothing was kept.
    }
    if (this.mode) {
      this.mode = null;
      this.bar.hidden = true;
      clear(this.bar);
    }
    this.autosize();
    ta.focus();
  }

  focusComposer() {
    if (this.textarea) this.textarea.focus({ preventScroll: true });
    else this.titleEl.focus({ preventScroll: true });
  }
}
