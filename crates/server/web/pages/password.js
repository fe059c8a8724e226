// @ts-check
// After signing in with a one-time password: choose your own before anything else.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, button, busy, formError, announce } from '../ui.js';

export const name = 'password';

export async function render({ session, reloadMe, navigate }) {
  const known = session.signInPassword;
  const current = h('input', { type: 'password', class: 'input', autocomplete: 'current-password', 'data-autofocus': known ? null : true });
  const next = h('input', { type: 'password', class: 'input', autocomplete: 'new-password', minlength: '8', 'data-autofocus': known ? true : null, 'data-testid': 'new-password' });
  const repeat = h('input', { type: 'password', class: 'input', autocomplete: 'new-password', 'data-testid': 'repeat-password' });
  const currentField = field({ label: t('password.current'), input: current });
  const nextField = field({ label: t('password.new'), input: next, hint: t('password.newHint') });
  const repeatField = field({ label: t('password.repeat'), input: repeat });
  const err = formError();
  const submit = button(t('password.submit'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block btn-lg' } });

  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'page-h1' },
    known ? null : currentField.wrap, nextField.wrap, repeatField.wrap, err.el, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const cur = known || current.value;
    /** @type {[import('../ui.js').Field, string, HTMLInputElement][]} */
    const problems = [
      [currentField, known || cur ? '' : t('password.needCurrent'), current],
      [nextField, [...next.value].length >= 8 ? '' : t('password.tooShort'), next],
      [repeatField, next.value === repeat.value ? '' : t('password.mismatch'), repeat],
    ];
    let firstBad = null;
    for (const [f, msg, input] of problems) {
      f.setError(msg);
      if (msg && !firstBad) firstBad = input;
    }
    if (firstBad) return firstBad.focus();
    try {
      await busy(submit, t('password.busy'), () => api.changePassword(cur, next.value));
      await reloadMe();
      announce(t('password.done'));
      navigate('/', { replace: true });
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });

  return h('div', { class: 'container login-layout' },
    h('div', { class: 'card login-card' },
      h('h1', { tabindex: '-1', id: 'page-h1', class: 'login-title' }, t('password.title')),
      h('p', { class: 'lead' }, t('password.lead')),
      form));
}
