// @ts-check
// Sign-in, with the demo accounts listed when the server runs `parta demo`.

import { api } from '../api.js';
import { h, icon } from '../dom.js';
import { t, roleName } from '../i18n.js';
import { field, textInput, button, busy, formError, passwordField as pwField } from '../ui.js';
import { newFlow, phoneFlow } from '../phoneflow.js';

export const name = 'login';

// What was typed survives a language switch (the page is rebuilt then).
const draft = { login: '', password: '' };
/** «Войти по коду из SMS» in progress: a phone flow, or null for the password form. */
let byPhone = null;
let demoAccounts; // undefined: not asked yet; null: not a demo server.

export async function render({ afterSignIn }) {
  if (demoAccounts === undefined) {
    try {
      demoAccounts = await api.demoAccounts();
    } catch {
      demoAccounts = null;
    }
  }

  const loginInput = textInput({
    name: 'login', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false',
    inputmode: 'email', value: draft.login, 'data-autofocus': true, 'data-testid': 'login',
  });
  loginInput.addEventListener('input', () => { draft.login = loginInput.value; });

  const loginField = field({ label: t('login.login'), input: loginInput });
  const passwordField = pwField({
    label: t('login.password'),
    attrs: { name: 'password', value: draft.password, 'data-testid': 'password' },
  });
  const passwordInput = passwordField.input;
  passwordInput.addEventListener('input', () => { draft.password = passwordInput.value; });

  const err = formError();
  err.el.dataset.testid = 'login-error';
  const submit = button(t('login.submit'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block btn-lg' } });
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'page-h1' },
    loginField.wrap, passwordField.wrap, err.el, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const login = loginInput.value.trim();
    const password = passwordInput.value;
    loginField.setError(login ? '' : t('login.needLogin'));
    passwordField.setError(password ? '' : t('login.needPassword'));
    if (!login) return loginInput.focus();
    if (!password) return passwordInput.focus();
    try {
      const me = await busy(submit, t('login.busy'), () => api.login(login, password));
      draft.login = '';
      draft.password = '';
      afterSignIn(me, password);
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
      passwordInput.select();
      passwordInput.focus();
    }
  });

  const brand = h('div', { class: 'login-brand' },
    h('img', { src: '/assets/logo.svg', alt: '', width: '48', height: '48' }),
    h('span', { class: 'login-tagline' }, t('app.tagline')));
  const card = h('div', { class: 'card login-card' });
  const showPassword = () => {
    byPhone = null;
    card.replaceChildren(brand,
      h('h1', { tabindex: '-1', id: 'page-h1', class: 'login-title' }, t('login.title')),
      h('p', { class: 'lead' }, t('login.lead')),
      form,
      h('p', { class: 'login-alt' }, button(t('login.bySms'), {
        kind: 'ghost', attrs: { 'data-testid': 'login-by-sms' },
        onClick: () => {
          byPhone = newFlow();
          showPhone();
        },
      })),
      h('p', { class: 'login-help' }, t('login.help')));
  };
  // A lockout of the password never closes this way: the code proves the person.
  const showPhone = () => {
    card.replaceChildren(brand, phoneFlow(byPhone, {
      mode: 'portal',
      headingLevel: 'h1',
      title: t('login.bySmsTitle'),
      lead: t('login.bySmsLead'),
      onCancel: () => {
        showPassword();
        loginInput.focus();
      },
      onProof: async (proof) => {
        const me = await api.loginByPhone(proof.proof);
        byPhone = null;
        afterSignIn(me, null);
      },
    }));
    (/** @type {HTMLElement | null | undefined} */ (card.querySelector('[data-autofocus]')))?.focus();
  };
  if (byPhone) showPhone();
  else showPassword();

  const wrap = h('div', { class: 'container login-layout' }, card);
  if (Array.isArray(demoAccounts) && demoAccounts.length) {
    wrap.append(demoBox(demoAccounts, loginInput, passwordInput, submit, err));
  }
  return wrap;
}

function demoBox(accounts, loginInput, passwordInput, submit, err) {
  const status = h('p', { class: 'demo-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'demo-list' }, accounts.map((a) => h('li', { class: 'demo-item' },
    h('div', { class: 'demo-who' },
      h('p', { class: 'demo-line' },
        h('span', { class: 'demo-name' }, a.name),
        h('span', { class: ['chip', `chip-${a.role}`] }, roleName(a.role))),
      h('p', { class: 'demo-meta' }, [a.org, a.note].filter(Boolean).join(' · '), ' · ',
        h('code', { class: 'demo-login' }, a.login))),
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm demo-fill',
      'aria-label': t('demo.fillFor', { name: `${a.name} (${roleName(a.role)})` }),
      'data-login': a.login,
      onclick: () => {
        loginInput.value = a.login;
        passwordInput.value = a.password;
        loginInput.dispatchEvent(new Event('input'));
        passwordInput.dispatchEvent(new Event('input'));
        err.show('');
        status.textContent = t('demo.filled');
        submit.focus();
        submit.scrollIntoView({ block: 'center', behavior: 'smooth' });
      },
    }, t('demo.fill')))));
  return h('aside', { class: 'card demo-box', 'aria-labelledby': 'demo-title' },
    h('h2', { id: 'demo-title', class: 'demo-title' }, icon('key'), h('span', null, t('demo.title'))),
    h('p', { class: 'demo-lead' }, t('demo.lead')),
    status,
    list);
}
