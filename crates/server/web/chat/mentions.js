// @ts-check
// @mentions in the composer: typing «@» offers the chat's members by name;
// the chosen one goes into the text as «@Имя Фамилия» and into the send's
// `mentions`, which notifies them even in a muted chat (docs/protocol.md).

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t, addStrings } from '../i18n.js';

addStrings({
  ru: { 'mention.list': 'Упомянуть участника' },
  en: { 'mention.list': 'Mention a member' },
});

/** The most names offered at once. */
const SHOWN = 6;

/** «Малышева Карина Дмитриевна» → «Карина Малышева»: how people are addressed in a chat. */
function addressOf(name) {
  const [last, first] = name.split(/\s+/);
  return first ? `${first} ${last}` : last;
}

export class MentionPicker {
  /**
   * @param {HTMLTextAreaElement} textarea the composer
   * @param {number} chat
   * @param {number} me the viewer's person id (never offered)
   */
  constructor(textarea, chat, me) {
    this.textarea = textarea;
    this.chat = chat;
    this.me = me;
    this.members = null;
    /** person id → the text inserted for them. */
    this.picked = new Map();
    this.options = [];
    this.active = 0;
    this.listId = `pm-mentions-${chat}`;
    this.el = h('ul', { id: this.listId, class: 'pm-mentions', role: 'listbox', 'aria-label': t('mention.list'), hidden: true, 'data-testid': 'mention-picker' });
    textarea.setAttribute('aria-autocomplete', 'list');
    textarea.setAttribute('aria-controls', this.listId);
    // Registered before the composer's own keys: while the list is open,
    // Enter and Tab choose a name instead of sending.
    textarea.addEventListener('keydown', (e) => this.key(e));
    textarea.addEventListener('input', () => this.update());
    textarea.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  /** The «@…» being typed just before the caret, if any. */
  query() {
    const before = this.textarea.value.slice(0, this.textarea.selectionStart);
    const m = /(?:^|\s)@([\p{L}-]{0,30})$/u.exec(before);
    return m ? { text: m[1], start: before.length - m[1].length - 1 } : null;
  }

  async update() {
    const q = this.query();
    if (!q) {
      this.close();
      return;
    }
    if (!this.members) {
      this.members = [];
      this.members = await api.members(this.chat).catch(() => []);
    }
    const needle = q.text.toLocaleLowerCase('ru');
    this.options = this.members
      .filter((m) => m.person !== this.me)
      .filter((m) => !needle || m.name.toLocaleLowerCase('ru').split(/\s+/).some((part) => part.startsWith(needle)))
      .slice(0, SHOWN);
    if (!this.options.length) {
      this.close();
      return;
    }
    this.active = 0;
    this.render();
  }

  render() {
    clear(this.el).append(...this.options.map((m, i) => {
      const li = h('li', { id: `${this.listId}-${i}`, role: 'option', class: 'pm-mention-option', 'aria-selected': String(i === this.active) }, addressOf(m.name));
      // mousedown: before the textarea's blur closes the list.
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        this.choose(m);
      });
      return li;
    }));
    this.el.hidden = false;
    this.textarea.setAttribute('aria-expanded', 'true');
    this.textarea.setAttribute('aria-activedescendant', `${this.listId}-${this.active}`);
  }

  close() {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.textarea.setAttribute('aria-expanded', 'false');
    this.textarea.removeAttribute('aria-activedescendant');
  }

  key(e) {
    if (this.el.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = this.options.length;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.choose(this.options[this.active]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.close();
    }
  }

  choose(member) {
    const q = this.query();
    if (!q || !member) return;
    const ta = this.textarea;
    const inserted = `@${addressOf(member.name)}`;
    const after = ta.value.slice(ta.selectionStart);
    ta.value = `${ta.value.slice(0, q.start)}${inserted} ${after}`;
    const caret = q.start + inserted.length + 1;
    ta.setSelectionRange(caret, caret);
    this.picked.set(member.person, inserted);
    this.close();
    ta.dispatchEvent(new Event('input'));
  }

  /** The people still mentioned in `text` (a name erased is no mention); the picks are then forgotten. */
  take(text) {
    const ids = [...this.picked].filter(([, inserted]) => text.includes(inserted)).map(([id]) => id);
    this.picked.clear();
    return ids;
  }
}

/** «@Имя Фамилия» as the picker writes it. */
const MENTION_RE = /(@\p{Lu}[\p{Ll}-]+(?: \p{Lu}[\p{Ll}-]+)?)/u;

/** The text nodes of a message with its «@Имя Фамилия» marked, when it mentions anyone. */
export function markMentions(nodes, mentions) {
  if (!mentions?.length) return nodes;
  return nodes.flatMap((node) => {
    if (typeof node !== 'string') return [node];
    return node.split(MENTION_RE).filter((part) => part !== '')
      .map((part) => (MENTION_RE.test(part) && part.startsWith('@') ? h('span', { class: 'pm-mention' }, part) : part));
  });
}
