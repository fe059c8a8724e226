// @ts-check
// The composer of an open chat: the field with its draft, replying and
// editing, files, mentions, «Срочно», the quiet-hours banner with «Отправить
// утром», and sending (an optimistic send through the store's outbox).

import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t } from '../i18n.js';
import { announce } from '../ui.js';
import { newClientId } from './outbox.js';
import * as fmt from './format.js';
import { MentionPicker } from './mentions.js';
import { AttachmentTray } from './attachments.js';
import { pollButton } from './polls.js';
import { consentButton } from './consent.js';
import { scheduleButton, scheduleMessage } from './scheduled.js';

/** @typedef {import('../types.js').Message} Message */

export class Composer {
  /** @param {import('./conversation.js').Conversation} conv */
  constructor(conv) {
    this.conv = conv;
    this.el = h('div', { class: 'pm-composer' });
    /** @type {{ kind: 'reply' | 'edit', message: Message } | null} */
    this.mode = null;
  }

  draftKey() {
    return `parta.draft.${this.conv.app.me.account.id}.${this.conv.id}`;
  }

  loadDraft() {
    try {
      return localStorage.getItem(this.draftKey()) || '';
    } catch {
      return '';
    }
  }

  saveDraft() {
    if (this.conv.destroyed || !this.textarea || this.mode?.kind === 'edit') return;
    try {
      const v = this.textarea.value;
      if (v.trim()) localStorage.setItem(this.draftKey(), v);
      else localStorage.removeItem(this.draftKey());
    } catch {
      // Drafts are a convenience.
    }
  }

  buildComposer() {
    clear(this.el);
    this.textarea = null;
    const s = this.conv.summary;
    this.postable = this.conv.canPost();
    if (!s) return;
    if (!this.postable) {
      const text = s.read_only ? t('chat.readOnly') : t('chat.announcementOnly');
      this.tray = null;
      this.el.append(h('p', { class: 'pm-locked', 'data-testid': 'composer-locked' },
        icon(s.read_only ? 'archive' : 'megaphone'), h('span', null, text)));
      return;
    }
    const hintId = `pm-hint-${this.conv.id}`;
    this.bar = h('div', { class: 'pm-bar', hidden: true });
    this.composerError = h('p', { class: 'pm-composer-error', role: 'alert' });
    this.textarea = h('textarea', {
      class: 'pm-input', rows: '1', 'aria-label': t('chat.composer'), placeholder: t('chat.composerPlaceholder'),
      'aria-describedby': hintId, 'data-testid': 'composer', maxlength: '10000',
    });
    this.textarea.value = this.loadDraft();
    this.mentions = new MentionPicker(this.textarea, this.conv.id, s.me);
    this.sendBtn = h('button', { type: 'submit', class: 'pm-send', 'aria-label': t('chat.send'), title: t('chat.send') }, icon('send'));
    const form = h('form', { class: 'pm-form', novalidate: true },
      this.bar, this.composerError,
      this.mentions.el,
      h('div', { class: 'pm-input-row' }, this.textarea, scheduleButton(this.conv), this.sendBtn),
      h('p', { id: hintId, class: 'sr-only' }, t('chat.composerHint')));
    this.tray = new AttachmentTray(this.conv.id, () => {
      this.sendBtn.disabled = this.tray.busy();
    });
    const consent = consentButton(this.conv);
    form.querySelector('.pm-input-row').prepend(this.tray.button, this.tray.input, pollButton(this.conv), ...(consent ? [consent] : []));
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
        const mine = [...(this.conv.data?.messages || [])].reverse().find((m) => m.author.person === s.me && !m.deleted);
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
          if (this.conv.destroyed) return;
          this.saveDraft();
          this.conv.app.listChanged();
        }, 300);
        if (this.textarea.value.trim()) this.conv.store.typed(this.conv.id);
      }
    });
    this.el.append(form);
    requestAnimationFrame(() => this.autosize());
  }

  /** The school's quiet hours now: the banner says when notifications resume, and offers to send then. */
  async checkQuiet() {
    const el = this.quietEl;
    let quiet;
    try {
      quiet = await api.chatQuiet(this.conv.id);
    } catch {
      return; // Only a hint: the composer works without it.
    }
    if (this.conv.destroyed || el !== this.quietEl) return;
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
      await scheduleMessage(this.conv.id, text, quiet.until, { client_id: newClientId() });
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
    if (this.conv.canPost() !== this.postable) this.buildComposer();
  }

  autosize() {
    const ta = this.textarea;
    if (!ta) return;
    const stick = this.conv.stick;
    ta.style.height = 'auto';
    const max = Math.max(120, Math.round(window.innerHeight * 0.35));
    ta.style.height = `${Math.min(ta.scrollHeight + 2, max)}px`;
    ta.style.overflowY = ta.scrollHeight + 2 > max ? 'auto' : 'hidden';
    if (stick) this.conv.scrollToBottom();
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
        await api.editMessage(this.conv.id, m.id, text);
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
    this.conv.store.send(this.conv.id, text, reply, files, this.mentions.take(text), urgent);
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
}
