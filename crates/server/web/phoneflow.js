// @ts-check
// Proving a phone for Parta ID: number → SMS code or the Parta ID password →
// a single-use proof. Shared by the "Чаты" window of the school portal (link a
// learning profile) and the messenger page (sign in, register, change the
// number); also the "Информация о себе" form that usually comes next.
//
// The state of a flow lives in a plain object made by newFlow(), owned by the
// caller, so the current step survives a re-render (a language switch).

import { api } from './api.js';
import { h, clear, uid } from './dom.js';
import { t } from './i18n.js';
import { field, textInput, passwordField, button, busy, formError, announce, tWith, phoneText } from './ui.js';

/** A fresh flow, at the phone step; `input` pre-fills the number. */
export function newFlow(input = '') {
  return {
    step: 'phone',
    /** What the person typed. */
    input,
    /** E.164 and "+7 912 345-67-89", once the server has read the number. */
    phone: '',
    display: '',
    /** Date.now() after which another code may be requested. */
    resendAt: 0,
    /** The server's cool-down message, shown instead of «Мы отправили код…». */
    codeNote: null,
    /** Demo mode: the latest code sent to this number. */
    demoCode: null,
    /** An error to show when the code step is drawn again (a spent code). */
    codeError: null,
  };
}

// Demo mode answers /api/dev/sms-outbox; a real server says 404 once and is not asked again.
let outboxAvailable = true;

async function latestDemoCode(phone) {
  if (!outboxAvailable) return null;
  try {
    const messages = await api.smsOutbox();
    const sms = messages.find((m) => m.phone === phone);
    const m = sms && /(\d{6})/.exec(sms.text);
    return m ? m[1] : null;
  } catch {
    outboxAvailable = false;
    return null;
  }
}

function errText(ex) {
  if (ex?.code === 'wrong_code' && ex.body?.remaining_attempts !== undefined) {
    return `${ex.text()} ${t('flow.attemptsLeft', { n: ex.body.remaining_attempts })}`;
  }
  return ex?.text ? ex.text() : t('error.unknown');
}

function clock(secs) {
  const m = Math.floor(secs / 60);
  const s = String(secs % 60).padStart(2, '0');
  return `${m}:${s}`;
}

/**
 * Renders `flow` and walks it to a proof. Options:
 * - `mode`: 'link' (the portal's «Чаты»), 'portal' (the portal's sign-in by
 *   code), 'signin', 'register' or 'newphone' (messenger);
 * - `title`, `lead`: the phone step's heading and text;
 * - `headingLevel`: 'h1' when the flow is the page, 'h2' (default) inside one;
 * - `onProof(proof, ctl)`: the phone is proven (`proof` is the server's answer
 *   plus `phone` and `display`); may throw an ApiError, shown on the step;
 *   `ctl.go(step)` moves the flow (e.g. to 'no-account');
 * - `onCancel()`: a «Отмена» button on the phone step;
 * - `onRegister(flow)` / `onSignIn(flow, proof)`: the proven number has no
 *   Parta ID (sign-in) / already has one (registration: `proof` signs in);
 * - `currentPhone`: the account's number, for 'newphone'.
 */
export function phoneFlow(flow, opts) {
  const root = h('div', { class: 'flow', 'data-step': flow.step });
  const level = opts.headingLevel || 'h2';

  function go(step, { focus = true } = {}) {
    flow.step = step;
    draw(focus);
  }

  const ctl = { go };

  function title(text) {
    const attrs = { class: 'flow-title', tabindex: '-1' };
    if (level === 'h1') attrs.id = 'page-h1';
    return h(level, attrs, text);
  }

  function actions(...items) {
    return h('div', { class: 'flow-actions' }, ...items);
  }

  function changePhoneButton() {
    return button(t('flow.changePhone'), { kind: 'ghost', onClick: () => go('phone') });
  }

  async function proven(proof, err) {
    if (opts.mode === 'register' && proof.account_exists) {
      flow.pendingProof = proof;
      go('exists');
      return;
    }
    try {
      await opts.onProof({ ...proof, phone: flow.phone, display: flow.display }, ctl);
    } catch (ex) {
      err.show(errText(ex));
    }
  }

  /** Sends a code and moves to the code step; errors stay on the current step. */
  async function sendCode(err, { resend = false } = {}) {
    try {
      const sent = await api.sendCode(flow.phone);
      flow.resendAt = Date.now() + sent.resend_after * 1000;
      flow.codeNote = null;
      flow.demoCode = await latestDemoCode(flow.phone);
      if (resend) announce(t('flow.resent', { phone: sent.display }));
    } catch (ex) {
      if (ex.code !== 'code_cooldown') {
        err.show(errText(ex));
        return;
      }
      // A code was sent a moment ago: it is still good; a new one after the countdown.
      flow.resendAt = Date.now() + (ex.body?.retry_after ?? 60) * 1000;
      flow.codeNote = ex.text();
      flow.demoCode = await latestDemoCode(flow.phone);
    }
    go('code');
  }

  // ------------------------------------------------------------ steps

  function phoneStep() {
    const input = textInput({
      type: 'tel', name: 'phone', autocomplete: 'tel', inputmode: 'tel', value: flow.input,
      placeholder: '+7 912 345-67-89', 'data-autofocus': true, 'data-testid': 'phone',
    });
    input.addEventListener('input', () => { flow.input = input.value; });
    const f = field({ label: t('flow.phone'), input, hint: t('flow.phoneHint') });
    const err = formError();
    const submit = button(t('flow.getCode'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-lg' } });
    // A password is offered to everyone alike, so the offer says nothing about the number.
    const byPassword = passwordAllowed() ? button(t('flow.havePassword'), {
      kind: 'ghost', type: 'submit', attrs: { 'data-testid': 'by-password' },
    }) : null;
    byPassword?.addEventListener('click', () => { flow.wantsPassword = true; });
    submit.addEventListener('click', () => { flow.wantsPassword = false; });
    const form = h('form', { class: 'form flow-form', novalidate: true },
      f.wrap, err.el,
      actions(submit, byPassword, opts.onCancel ? button(t('common.cancel'), { kind: 'ghost', onClick: opts.onCancel }) : null));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show('');
      f.setError('');
      await busy(submit, t('flow.checking'), async () => {
        let status;
        try {
          status = await api.phoneStatus(input.value);
        } catch (ex) {
          f.setError(errText(ex));
          input.focus();
          return;
        }
        flow.phone = status.phone;
        flow.display = status.display;
        flow.input = status.display;
        if (opts.mode === 'newphone' && status.display === opts.currentPhone) {
          f.setError(t('flow.samePhone'));
          input.focus();
          return;
        }
        // Whether the number has a Parta ID is told only once the code proves it.
        if (flow.wantsPassword) return go('password');
        await sendCode(err);
      });
    });
    return [title(opts.title), opts.lead ? h('p', { class: 'flow-lead' }, opts.lead) : null, form];
  }

  function passwordAllowed() {
    return opts.mode === 'link' || opts.mode === 'signin';
  }

  function codeStep() {
    const input = textInput({
      name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*',
      class: 'input input-code', 'data-autofocus': true, 'data-testid': 'code', spellcheck: 'false',
    });
    const f = field({ label: t('flow.code'), input, hint: t('flow.codeHint') });
    const err = formError();
    err.el.dataset.testid = 'code-error';
    if (flow.codeError) {
      err.show(flow.codeError);
      flow.codeError = null;
    }
    const submit = button(t('flow.continue'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-lg' } });

    const resend = button(t('flow.resend'), { kind: 'secondary', attrs: { 'data-testid': 'resend' } });
    const resendLabel = resend.querySelector('.btn-label');
    let timer = null;
    const tick = () => {
      if (!resend.isConnected && timer !== null) {
        clearInterval(timer);
        return;
      }
      const left = Math.ceil((flow.resendAt - Date.now()) / 1000);
      if (resend.getAttribute('aria-busy')) return;
      if (left > 0) {
        resend.disabled = true;
        resendLabel.textContent = t('flow.resendIn', { time: clock(left) });
      } else {
        resend.disabled = false;
        resendLabel.textContent = t('flow.resend');
        clearInterval(timer);
        timer = null;
      }
    };
    tick();
    if (resend.disabled) timer = setInterval(tick, 1000);
    resend.addEventListener('click', async () => {
      err.show('');
      await busy(resend, t('flow.sending'), () => sendCode(err, { resend: true }));
    });

    const form = h('form', { class: 'form flow-form', novalidate: true },
      f.wrap,
      flow.demoCode ? h('p', { class: 'demo-code', 'data-testid': 'demo-code', 'data-code': flow.demoCode },
        t('flow.demoCode', { code: flow.demoCode })) : null,
      err.el, actions(submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show('');
      input.removeAttribute('aria-invalid');
      const code = input.value.replace(/[\s-]/g, '');
      await busy(submit, t('flow.checking'), async () => {
        let proof;
        try {
          proof = await api.proveByCode(flow.phone, code);
        } catch (ex) {
          if (['code_burned', 'code_expired', 'code_used'].includes(ex.code)) {
            // This code is spent: its demo hint goes, and a new one may be asked for at once.
            flow.demoCode = null;
            flow.resendAt = 0;
            flow.codeError = errText(ex);
            go('code', { focus: false });
            (/** @type {HTMLElement | null | undefined} */ (root.querySelector('[data-testid="resend"]')))?.focus();
            return;
          }
          err.show(errText(ex));
          input.setAttribute('aria-invalid', 'true');
          if (ex.code === 'no_code' && !resend.disabled) {
            resend.focus();
          } else {
            input.select();
            input.focus();
          }
          return;
        }
        await proven(proof, err);
      });
    });
    return [
      title(t('flow.codeTitle')),
      h('p', { class: 'flow-lead', role: 'status' },
        flow.codeNote || tWith('flow.codeSent', 'phone', phoneText(flow.display))),
      form,
      actions(resend, changePhoneButton(),
        passwordAllowed() ? button(t('flow.havePassword'), { kind: 'ghost', onClick: () => go('password') }) : null),
    ];
  }

  function passwordStep() {
    const f = passwordField({
      label: t('flow.password'), attrs: { name: 'password', 'data-autofocus': true, 'data-testid': 'flow-password' },
    });
    const err = formError();
    const submit = button(t('flow.continue'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-lg' } });
    const form = h('form', { class: 'form flow-form', novalidate: true }, f.wrap, err.el, actions(submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show('');
      if (!f.input.value) {
        f.setError(t('login.needPassword'));
        f.input.focus();
        return;
      }
      f.setError('');
      await busy(submit, t('flow.checking'), async () => {
        let proof;
        try {
          proof = await api.proveByPassword(flow.phone, f.input.value);
        } catch (ex) {
          err.show(errText(ex));
          f.input.select();
          f.input.focus();
          return;
        }
        await proven(proof, err);
      });
    });
    const smsErr = formError();
    const sms = button(t('flow.bySms'), { kind: 'ghost' });
    sms.addEventListener('click', () => busy(sms, t('flow.sending'), () => sendCode(smsErr)));
    return [
      title(t('flow.passwordTitle')),
      h('p', { class: 'flow-lead' }, tWith('flow.passwordText', 'phone', phoneText(flow.display))),
      h('p', { class: 'muted small' }, t('flow.passwordNone')),
      form,
      smsErr.el,
      actions(sms, changePhoneButton()),
    ];
  }

  function noAccountStep() {
    return [
      title(t('flow.noAccountTitle')),
      h('p', { class: 'flow-lead' }, tWith('flow.noAccountText', 'phone', phoneText(flow.display))),
      actions(
        button(t('msg.register'), { kind: 'primary', attrs: { class: 'btn btn-primary btn-lg', 'data-autofocus': true }, onClick: () => opts.onRegister?.(flow) }),
        changePhoneButton()),
    ];
  }

  function existsStep() {
    return [
      title(t('flow.existsTitle')),
      h('p', { class: 'flow-lead' }, tWith('flow.existsText', 'phone', phoneText(flow.display))),
      actions(
        button(t('msg.signIn'), { kind: 'primary', attrs: { class: 'btn btn-primary btn-lg', 'data-autofocus': true }, onClick: () => opts.onSignIn?.(flow, flow.pendingProof) }),
        changePhoneButton()),
    ];
  }

  const steps = {
    phone: phoneStep, code: codeStep, password: passwordStep,
    'no-account': noAccountStep, exists: existsStep,
  };

  function draw(focus) {
    clear(root);
    root.dataset.step = flow.step;
    root.append(...(steps[flow.step] || phoneStep)().filter(Boolean));
    if (focus) (/** @type {HTMLElement | null | undefined} */ (root.querySelector('[data-autofocus]') || root.querySelector('.flow-title')))?.focus();
  }

  draw(false);
  return root;
}

/**
 * "Информация о себе": last name, first name, optional middle name, and for a
 * new Parta ID an optional password. `onSubmit({last_name, first_name,
 * middle_name, password})` may throw an ApiError, shown under the form.
 * `extra` ({el, check}) adds a part (a consent) whose `check()` must pass.
 * @param {{
 *   title?: string, lead?: any, initial?: any, withPassword?: boolean, headingLevel?: 'h1' | 'h2',
 *   submitLabel?: string, onSubmit: (about: any) => any, onStartOver?: () => void,
 *   extra?: { el: HTMLElement, check: () => boolean },
 * }} opts
 */
export function aboutForm({ title, lead, initial, withPassword = false, headingLevel = 'h2', submitLabel, onSubmit, onStartOver, extra }) {
  const make = (name, autocomplete, value) => textInput({ name, autocomplete, value: value || '', autocapitalize: 'words' });
  const last = field({ label: t('about.lastName'), input: make('last_name', 'family-name', initial?.last_name) });
  const first = field({ label: t('about.firstName'), input: make('first_name', 'given-name', initial?.first_name) });
  const middle = field({ label: t('about.middleName'), input: make('middle_name', 'additional-name', initial?.middle_name), optional: true });
  last.input.dataset.autofocus = 'true';
  const pw = withPassword ? passwordField({
    label: t('about.password'), autocomplete: 'new-password', hint: t('about.passwordHint'), optional: true,
    attrs: { name: 'new-password', 'data-testid': 'new-password' },
  }) : null;
  const err = formError();
  const submit = button(submitLabel || t('flow.continue'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-lg' } });
  const titleId = uid('about');
  const form = h('form', { class: 'form flow-form', novalidate: true, 'aria-labelledby': titleId },
    last.wrap, first.wrap, middle.wrap, pw?.wrap, extra?.el, err.el,
    h('div', { class: 'flow-actions' }, submit,
      onStartOver ? button(t('about.startOver'), { kind: 'ghost', onClick: onStartOver }) : null));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const values = {
      last_name: last.input.value.trim(),
      first_name: first.input.value.trim(),
      middle_name: middle.input.value.trim() || null,
    };
    last.setError(values.last_name ? '' : t('about.needLast'));
    first.setError(values.first_name ? '' : t('about.needFirst'));
    if (!values.last_name) return last.input.focus();
    if (!values.first_name) return first.input.focus();
    if (extra && !extra.check()) return undefined;
    if (pw) {
      const p = pw.input.value;
      pw.setError(p && p.length < 8 ? t('password.tooShort') : '');
      if (p && p.length < 8) return pw.input.focus();
      values.password = p || null;
    }
    try {
      await busy(submit, t('common.saving'), () => onSubmit(values));
    } catch (ex) {
      // The server names the field at fault (too long, markup): show it there.
      const at = { last_name: last, first_name: first, middle_name: middle }[ex?.body?.field];
      if (at) {
        at.setError(errText(ex));
        at.input.focus();
      } else {
        err.show(errText(ex));
      }
    }
  });
  const attrs = { class: 'flow-title', tabindex: '-1', id: headingLevel === 'h1' ? 'page-h1' : titleId };
  if (headingLevel === 'h1') form.setAttribute('aria-labelledby', 'page-h1');
  return h('div', { class: 'flow', 'data-step': 'about' },
    h(headingLevel, attrs, title || t('about.title')),
    lead ? h('p', { class: 'flow-lead' }, lead) : null,
    form);
}
