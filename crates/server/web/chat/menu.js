// @ts-check
// A small popup menu (WAI-ARIA menu pattern): opened by the ⋯ button, a right
// click, a long press or the keyboard; arrow keys move between items, Escape
// closes it and gives the focus back.

import { h, icon } from '../dom.js';

let open = null;

export function closeMenu({ restoreFocus = true } = {}) {
  if (!open) return;
  const { el, opener, cleanup } = open;
  open = null;
  cleanup();
  el.remove();
  if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
}

/**
 * Opens a menu.
 * @param {object} o
 * @param {string} o.label the menu's accessible name
 * @param {Array<{emoji:string, label:string, pressed:boolean, onSelect:Function}>} [o.reactions] a row of emoji first
 * @param {string} [o.reactionsLabel] the emoji row's accessible name
 * @param {Array<{label:string, icon?:string, danger?:boolean, onSelect:Function}>} o.items
 * @param {HTMLElement} o.opener focus goes back here
 * @param {{x?:number, y?:number, left?:number, bottom?:number, top?:number}} o.at where to show it (a point or a DOMRect)
 */
export function openMenu({ label, reactions = [], reactionsLabel, items, opener, at }) {
  closeMenu({ restoreFocus: false });
  const el = h('div', { class: 'pm-menu', role: 'menu', 'aria-label': label, 'data-testid': 'message-menu' });
  const buttons = [];
  if (reactions.length) {
    const row = h('div', { class: 'pm-menu-reacts', role: 'group', 'aria-label': reactionsLabel });
    for (const r of reactions) {
      const b = h('button', {
        type: 'button', role: 'menuitemcheckbox', class: 'pm-menu-react', 'aria-checked': String(r.pressed),
        'aria-label': r.label, title: r.label, tabindex: '-1',
      }, r.emoji);
      b.addEventListener('click', () => {
        closeMenu();
        r.onSelect();
      });
      row.append(b);
      buttons.push(b);
    }
    el.append(row);
  }
  for (const it of items) {
    const b = h('button', {
      type: 'button', role: 'menuitem', class: ['pm-menu-item', it.danger && 'is-danger'], tabindex: '-1',
    }, it.icon ? icon(it.icon) : null, h('span', null, it.label));
    b.addEventListener('click', () => {
      closeMenu();
      it.onSelect();
    });
    el.append(b);
    buttons.push(b);
  }
  document.body.append(el);

  // Place it next to the point, inside the viewport.
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const r = el.getBoundingClientRect();
  let x = at.x ?? at.left;
  let y = at.y ?? at.bottom;
  if (x + r.width > vw - 8) x = Math.max(8, vw - r.width - 8);
  if (y + r.height > vh - 8) y = Math.max(8, (at.top ?? y) - r.height - 4);
  el.style.left = `${Math.max(8, x)}px`;
  el.style.top = `${Math.max(8, y)}px`;

  const focusAt = (i) => buttons[(i + buttons.length) % buttons.length]?.focus();
  const onKey = (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      closeMenu();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') {
      e.preventDefault();
      focusAt(i + 1);
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
      e.preventDefault();
      focusAt(i - 1);
    } else if (e.key === 'Home') {
      e.preventDefault();
      focusAt(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      focusAt(buttons.length - 1);
    } else if (e.key === 'Tab') {
      e.preventDefault();
      closeMenu();
    }
  };
  const onDown = (e) => {
    if (!el.contains(e.target)) closeMenu({ restoreFocus: false });
  };
  const onScroll = (e) => {
    if (!el.contains(e.target)) closeMenu({ restoreFocus: false });
  };
  el.addEventListener('keydown', onKey);
  // Registered after this click has finished bubbling.
  setTimeout(() => {
    if (open?.el !== el) return;
    document.addEventListener('pointerdown', onDown, true);
    document.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onDown);
  });
  open = {
    el,
    opener,
    cleanup: () => {
      document.removeEventListener('pointerdown', onDown, true);
      document.removeEventListener('scroll', onScroll, true);
      window.removeEventListener('resize', onDown);
    },
  };
  // The first item after the emoji row: a reply is the likeliest wish.
  const firstItem = /** @type {HTMLElement | null} */ (el.querySelector('.pm-menu-item')) || buttons[0];
  firstItem?.focus({ preventScroll: true });
  return el;
}
