// @ts-check
// Shared pieces of the interface: fields, buttons, dialogs, notices.

import { h, icon, uid, clear } from './dom.js';
import { t, roleName, lang, setLang, LANGS } from './i18n.js';

/**
 * @typedef {object} Field
 * @property {HTMLElement} wrap
 * @property {HTMLInputElement} input
 * @property {(msg: string | null | undefined) => void} setError
 */

/**
 * A labelled input with an optional hint and an inline error, wired for screen readers.
 * @param {{ label: any, input: HTMLElement, control?: HTMLElement, hint?: any, optional?: boolean }} opts
 * @returns {Field}
 */
export function field({ label, input, control, hint, optional = false }) {
  const id = input.id || uid('f');
  input.id = id;
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  const errEl = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  const described = [hintEl && hintEl.id, errEl.id].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', described);
  const labelEl = h('label', { class: 'field-label', for: id }, label,
    optional ? h('span', { class: 'field-optional' }, ` (${t('common.optional')})`) : null);
  const wrap = h('div', { class: 'field' }, labelEl, control || input, hintEl, errEl);
  return {
    wrap,
    input: /** @type {HTMLInputElement} */ (input),
    setError(msg) {
      if (msg) {
        errEl.textContent = msg;
        errEl.hidden = false;
        input.setAttribute('aria-invalid', 'true');
      } else {
        errEl.textContent = '';
        errEl.hidden = true;
        input.removeAttribute('aria-invalid');
      }
    },
  };
}

/**
 * A password input with a «Показать» button, in a labelled field. Returns what
 * field() returns.
 * @param {{ label: any, autocomplete?: string, hint?: any, optional?: boolean, attrs?: Record<string, any> }} opts
 * @returns {Field}
 */
export function passwordField({ label, autocomplete = 'current-password', hint, optional = false, attrs = {} }) {
  const input = h('input', { type: 'password', class: 'input', autocomplete, ...attrs });
  const reveal = h('button', {
    type: 'button', class: 'reveal', 'aria-pressed': 'false', 'aria-label': t('login.showPassword'),
  }, icon('eye'), h('span', null, t('login.show')));
  reveal.addEventListener('click', () => {
    const shown = input.type === 'text';
    input.type = shown ? 'password' : 'text';
    reveal.setAttribute('aria-pressed', String(!shown));
    reveal.setAttribute('aria-label', shown ? t('login.showPassword') : t('login.hidePassword'));
    reveal.querySelector('span').textContent = shown ? t('login.show') : t('login.hide');
  });
  return field({ label, input, hint, optional, control: h('div', { class: 'input-with-action' }, input, reveal) });
}

/** The «RU / EN» switch of the header. */
export function langSwitch() {
  const group = h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.switch') });
  LANGS.forEach((code, i) => {
    if (i > 0) group.append(h('span', { class: 'lang-sep', 'aria-hidden': 'true' }, '/'));
    group.append(h('button', {
      type: 'button',
      class: 'lang-btn',
      lang: code,
      'aria-pressed': String(lang() === code),
      'aria-label': t(`lang.${code}`),
      'data-lang': code,
      onclick: () => setLang(code),
    }, code.toUpperCase()));
  });
  return group;
}

/**
 * t(key) with one placeholder filled by a node instead of text (a phone
 * number that must not break across lines, a link).
 */
export function tWith(key, name, node) {
  const marker = '\u0000';
  const [before, after = ''] = t(key, { [name]: marker }).split(marker);
  return [before, node, after].filter((x) => x !== '');
}

/** A phone number kept on one line. */
export function phoneText(display) {
  return h('span', { class: 'nowrap' }, display);
}

export function textInput(attrs = {}) {
  return h('input', { type: 'text', class: 'input', autocomplete: 'off', ...attrs });
}

/**
 * @param {any} label
 * @param {{ kind?: string, iconName?: string, type?: string, onClick?: (e: MouseEvent) => void, attrs?: Record<string, any> }} [opts]
 */
export function button(label, { kind = 'secondary', iconName, type = 'button', onClick, attrs = {} } = {}) {
  return h('button', { type, class: ['btn', `btn-${kind}`], onclick: onClick, ...attrs },
    iconName ? icon(iconName) : null, h('span', { class: 'btn-label' }, label));
}

/**
 * @param {any} label
 * @param {string} href
 * @param {{ kind?: string, iconName?: string, attrs?: Record<string, any> }} [opts]
 */
export function linkButton(label, href, { kind = 'secondary', iconName, attrs = {} } = {}) {
  return h('a', { href, class: ['btn', `btn-${kind}`], ...attrs },
    iconName ? icon(iconName) : null, h('span', { class: 'btn-label' }, label));
}

/**
 * Puts a button in a busy state while `work` runs; returns work's result.
 * @template T
 * @param {HTMLButtonElement} btn
 * @param {string | null | undefined} busyLabel
 * @param {() => T | Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(btn, busyLabel, work) {
  const label = btn.querySelector('.btn-label');
  const before = label ? label.textContent : '';
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  if (label && busyLabel) label.textContent = busyLabel;
  try {
    return await work();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    if (label) label.textContent = before;
  }
}

/** A form-level error line, announced as soon as text is put in it. */
export function formError() {
  const el = h('div', { class: 'form-error', role: 'alert', 'aria-live': 'assertive' });
  return {
    el,
    show(msg) {
      clear(el);
      if (msg) el.append(icon('info'), h('span', null, msg));
      el.classList.toggle('is-visible', Boolean(msg));
    },
  };
}

/** A callout box for a whole page: info, error, or success. */
export function notice(kind, text, ...extra) {
  const iconName = kind === 'success' ? 'check' : 'info';
  return h('div', { class: ['notice', `notice-${kind}`], role: kind === 'error' ? 'alert' : null },
    icon(iconName, 'notice-icon'), h('div', { class: 'notice-body' }, h('p', null, text), ...extra));
}

export function roleChips(roles) {
  return h('ul', { class: 'chips', 'aria-label': t('person.roles') },
    roles.map((r) => h('li', { class: ['chip', `chip-${r}`] }, roleName(r))));
}

export function breadcrumbs(items) {
  const list = h('ol', null, items.map((it, i) => h('li', null,
    it.href && i < items.length - 1
      ? h('a', { href: it.href }, it.label)
      : h('span', { 'aria-current': 'page' }, it.label))));
  return h('nav', { class: 'breadcrumbs', 'aria-label': t('common.back') }, list);
}

/** The page's main heading; focused after navigation so screen readers start there. */
export function pageTitle(text, sub) {
  return h('div', { class: 'page-title' },
    h('h1', { tabindex: '-1', id: 'page-h1' }, text),
    sub ? h('p', { class: 'page-sub' }, sub) : null);
}

export function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'section', 'aria-labelledby': id },
    h('h2', { id, class: 'section-title' }, title), ...children);
}

/** "Nothing here yet": an icon, a title and a hint. */
export function emptyState(title, hint, iconName = 'chat') {
  return h('div', { class: 'empty-state', 'data-testid': 'empty-state' },
    h('span', { class: 'empty-state-icon', 'aria-hidden': 'true' }, icon(iconName)),
    h('p', { class: 'empty-state-title' }, title),
    hint ? h('p', { class: 'empty-state-hint' }, hint) : null);
}

export function spinner() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', null, t('common.loading')));
}

// ---------------------------------------------------------------- dialogs

/**
 * A modal dialog built on <dialog>. `build(body, close)` fills it; `onSubmit`
 * (if given) runs on submit and closes the dialog when it resolves truthy.
 * @param {{
 *   title: any,
 *   build?: (body: HTMLElement, close: (result: any) => void) => any,
 *   submitLabel?: any,
 *   submitKind?: string,
 *   onSubmit?: (ctx: { showError: (msg: any) => void }) => any,
 *   cancelLabel?: any,
 * }} opts
 * @returns {Promise<any>}
 */
export function openDialog({ title, build, submitLabel, submitKind = 'primary', onSubmit, cancelLabel }) {
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const titleId = uid('dlg');
  const err = formError();
  const body = h('div', { class: 'dialog-body' });
  const submit = submitLabel ? button(submitLabel, { kind: submitKind, type: 'submit' }) : null;
  const cancel = button(cancelLabel || (submit ? t('common.cancel') : t('common.close')), {
    kind: 'ghost',
    onClick: () => close(false),
  });
  const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
    h('h2', { id: titleId, class: 'dialog-title' }, title),
    body, err.el,
    h('div', { class: 'dialog-actions' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  function close(result) {
    if (dialog.open) dialog.close();
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    else document.getElementById('page-h1')?.focus();
    resolve(result);
  }
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    close(false);
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!onSubmit) return close(true);
    err.show('');
    try {
      const ok = await busy(submit, t('common.saving'), () => onSubmit({ showError: err.show }));
      if (ok !== false) close(ok ?? true);
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  build?.(body, close);
  document.body.append(dialog);
  dialog.showModal();
  const first = /** @type {HTMLElement | null} */ (body.querySelector('input, select, textarea')) || submit || cancel;
  first.focus();
  return done;
}

/**
 * Asks before doing something; resolves true when confirmed.
 * @param {{ title: any, text: any, confirmLabel?: any, cancelLabel?: any, danger?: boolean }} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, text, confirmLabel, cancelLabel, danger = false }) {
  return openDialog({
    title,
    build: (body) => body.append(h('p', { class: 'dialog-text' }, text)),
    submitLabel: confirmLabel || t('common.confirm'),
    submitKind: danger ? 'danger' : 'primary',
    cancelLabel,
  });
}

// ---------------------------------------------------------------- status

let statusEl = null;
let statusTimer = null;

/**
 * The frame every page of the portal and the messenger shares: a skip link, the
 * header (filled by the caller), the main region, the status line and the footer.
 */
export function pageShell(root, tagline) {
  clear(root);
  const els = {};
  els.skip = h('a', { class: 'skip-link', href: '#main' }, t('app.skip'));
  els.skip.addEventListener('click', (e) => {
    e.preventDefault();
    els.main.focus();
  });
  els.header = h('header', { class: 'topbar' });
  els.main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  els.status = h('div', { id: 'status', class: 'toast', role: 'status', 'aria-live': 'polite' });
  els.footer = h('footer', { class: 'footer' }, h('p', null, `Parta · ${tagline}`));
  setStatusRegion(els.status);
  root.append(els.skip, els.header, els.main, els.status, els.footer);
  return els;
}

export function setStatusRegion(el) {
  statusEl = el;
}

/**
 * A short polite message ("Сохранено.") that also shows as a toast; `error` gives it a warning sign.
 * @param {string} text
 * @param {{ error?: boolean }} [opts]
 */
export function announce(text, { error = false } = {}) {
  if (!statusEl) return;
  clear(statusEl);
  statusEl.append(icon(error ? 'alert' : 'check'), h('span', null, text));
  statusEl.classList.toggle('is-error', error);
  statusEl.classList.add('is-visible');
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => statusEl.classList.remove('is-visible'), 4000);
}
