// @ts-check
// «Дети»: a guardian's children and their child profiles (DESIGN §2). The
// same section in the messenger's settings and in the portal's «Чаты» window.
// A guardian makes a child's own Parta ID (no phone) with their consent as the
// legal representative, signs the child in on a device by a one-time code or
// QR, or sets a login and password; sees the child's devices; moves the
// profile to the child's own phone; or unlinks it. Never the child's chats.

import { api } from './api.js';
import { h, clear, icon, fullName, initials } from './dom.js';
import { t, addStrings, formatDate, formatDateTime } from './i18n.js';
import {
  button, busy, formError, notice, openDialog, confirmDialog, announce, spinner, field, textInput, passwordField,
} from './ui.js';
import { newFlow, phoneFlow } from './phoneflow.js';

addStrings({
  ru: {
    'fam.title': 'Дети',
    'fam.lead': 'Профиль ребёнка нужен ребёнку без своего телефона: он видит чаты своего класса и предметов, а вы управляете входом. Переписку ребёнка вы не видите.',
    'fam.none': 'В школе вы не значитесь родителем ни одного ученика.',
    'fam.loadFailed': 'Не удалось загрузить список детей.',
    'fam.class': '{class}, {school}',
    'fam.noProfile': 'Профиля пока нет.',
    'fam.create': 'Создать профиль ребёнка',
    'fam.createFor': 'Создать профиль ребёнка: {name}',
    'fam.consentTitle': 'Согласие законного представителя',
    'fam.consentCheck': 'Я законный представитель ребёнка и даю это согласие',
    'fam.consentNeeded': 'Подтвердите согласие, чтобы продолжить.',
    'fam.created': 'Профиль ребёнка создан.',
    'fam.managed': 'Профиль ребёнка',
    'fam.createdBy': 'Создал(а) {name} {date}',
    'fam.devices': 'Устройств с входом: {n}',
    'fam.login': 'Логин: {login}',
    'fam.phone': 'Телефон ребёнка: {phone}',
    'fam.own': 'У ребёнка свой Parta ID: он входит в мессенджер со своего телефона.',
    'fam.shared': 'Ребёнок подключён к общему со взрослым Parta ID и видит чужие чаты. Создайте ему отдельный профиль ребёнка: его чаты и переписка перейдут в новый профиль.',
    'fam.noChats': 'В школе ребёнка чаты пока недоступны.',
    'fam.code': 'Вход на устройстве ребёнка',
    'fam.codeFor': 'Вход на устройстве ребёнка: {name}',
    'fam.codeLead': 'На устройстве ребёнка откройте Parta Мессенджер, нажмите «Для детей: вход по коду от родителя» и введите код — или наведите камеру на QR-код.',
    'fam.codeUntil': 'Код действует до {time}, один раз.',
    'fam.codeQr': 'QR-код для входа',
    'fam.loginPassword': 'Логин и пароль',
    'fam.loginTitle': 'Логин и пароль ребёнка',
    'fam.loginLead': 'С ними ребёнок входит сам: «Для детей: вход по коду от родителя» → «Логин и пароль».',
    'fam.loginField': 'Логин',
    'fam.loginHint': 'Латинские буквы, цифры и . _ -, от 3 символов. Например, eva.malysheva',
    'fam.loginSaved': 'Логин и пароль сохранены.',
    'fam.sessions': 'Устройства',
    'fam.sessionsTitle': 'Устройства ребёнка',
    'fam.noSessions': 'Ребёнок сейчас нигде не вошёл.',
    'fam.signOut': 'Выйти на этом устройстве',
    'fam.signedOut': 'Ребёнок вышел на этом устройстве.',
    'fam.move': 'Перенести на телефон ребёнка',
    'fam.moveTitle': 'Телефон ребёнка',
    'fam.moveLead': 'Введите номер телефона ребёнка. Профиль перейдёт на этот номер: чаты и переписка сохранятся.',
    'fam.moved': 'Профиль перенесён на телефон ребёнка.',
    'fam.unlink': 'Отвязать профиль ребёнка',
    'fam.unlinkTitle': 'Отвязать профиль ребёнка?',
    'fam.unlinkText': 'Ребёнок выйдет из всех школьных чатов на всех устройствах, а его профиль будет удалён. Написанные сообщения останутся. Создать профиль снова можно в любой момент.',
    'fam.unlinkConfirm': 'Отвязать и удалить',
    'fam.unlinkKeep': 'Оставить',
    'fam.unlinked': 'Профиль ребёнка отвязан.',
  },
  en: {
    'fam.title': 'Children',
    'fam.lead': 'A child profile is for a child without a phone of their own: they see their class and subject chats, and you manage how they sign in. You do not see their messages.',
    'fam.none': 'The school does not list you as the parent of any student.',
    'fam.loadFailed': 'Could not load the list of children.',
    'fam.class': '{class}, {school}',
    'fam.noProfile': 'No profile yet.',
    'fam.create': 'Create a child profile',
    'fam.createFor': 'Create a child profile: {name}',
    'fam.consentTitle': 'Consent of the legal representative',
    'fam.consentCheck': 'I am the child’s legal representative and I give this consent',
    'fam.consentNeeded': 'Confirm the consent to continue.',
    'fam.created': 'The child profile is created.',
    'fam.managed': 'Child profile',
    'fam.createdBy': 'Created by {name} on {date}',
    'fam.devices': 'Devices signed in: {n}',
    'fam.login': 'Login: {login}',
    'fam.phone': 'Child’s phone: {phone}',
    'fam.own': 'The child has a Parta ID of their own and signs in from their own phone.',
    'fam.shared': 'The child is on a Parta ID shared with an adult and sees chats that are not theirs. Create a separate child profile: their chats and history move to it.',
    'fam.noChats': 'Chats are not available in the child’s school yet.',
    'fam.code': 'Sign in on the child’s device',
    'fam.codeFor': 'Sign in on the child’s device: {name}',
    'fam.codeLead': 'On the child’s device open Parta Messenger, press “For children: a code from a parent” and type the code — or point the camera at the QR code.',
    'fam.codeUntil': 'The code works until {time}, once.',
    'fam.codeQr': 'QR code to sign in',
    'fam.loginPassword': 'Login and password',
    'fam.loginTitle': 'The child’s login and password',
    'fam.loginLead': 'With these the child signs in alone: “For children: a code from a parent” → “Login and password”.',
    'fam.loginField': 'Login',
    'fam.loginHint': 'Latin letters, digits and . _ -, at least 3. For example, eva.malysheva',
    'fam.loginSaved': 'The login and password are saved.',
    'fam.sessions': 'Devices',
    'fam.sessionsTitle': 'The child’s devices',
    'fam.noSessions': 'The child is not signed in anywhere now.',
    'fam.signOut': 'Sign out on this device',
    'fam.signedOut': 'The child is signed out on that device.',
    'fam.move': 'Move to the child’s phone',
    'fam.moveTitle': 'The child’s phone',
    'fam.moveLead': 'Enter the child’s phone number. The profile moves to it: chats and history stay.',
    'fam.moved': 'The profile moved to the child’s phone.',
    'fam.unlink': 'Unlink the child profile',
    'fam.unlinkTitle': 'Unlink the child profile?',
    'fam.unlinkText': 'The child leaves every school chat on every device, and their profile is deleted. Messages they wrote stay. You can create a profile again at any time.',
    'fam.unlinkConfirm': 'Unlink and delete',
    'fam.unlinkKeep': 'Keep it',
    'fam.unlinked': 'The child profile is unlinked.',
  },
});

/**
 * The consent a guardian gives for a child's profile, its wording from the
 * server, and a checkbox that `check()` requires.
 */
export function consentBlock() {
  const text = h('p', { class: 'consent-text', 'data-testid': 'consent-text' }, spinner());
  api.childConsent().then((c) => clear(text).append(c.text), () => clear(text).append(t('fam.loadFailed')));
  const box = h('input', { type: 'checkbox', class: 'checkbox', 'data-testid': 'consent-check' });
  const err = h('p', { class: 'field-error', hidden: true });
  const el = h('fieldset', { class: 'consent' },
    h('legend', { class: 'field-label' }, t('fam.consentTitle')),
    text,
    h('label', { class: 'check' }, box, h('span', null, t('fam.consentCheck'))),
    err);
  return {
    el,
    check() {
      err.hidden = box.checked;
      err.textContent = box.checked ? '' : t('fam.consentNeeded');
      if (!box.checked) box.focus();
      return box.checked;
    },
  };
}

/** The «Дети» section; loads the children itself. */
/** @param {{ headingLevel?: 'h1' | 'h2' | 'h3' }} [opts] */
export function childrenSection({ headingLevel = 'h2' } = {}) {
  const list = h('div', { class: 'children' }, spinner());
  const el = h('section', { class: 'card section-card children-card', 'aria-labelledby': 'children-title', 'data-testid': 'children' },
    h(headingLevel, { id: 'children-title', class: 'section-title' }, icon('users'), h('span', null, t('fam.title'))),
    h('p', { class: 'muted' }, t('fam.lead')),
    list);
  const reload = async (focusChild) => {
    let children;
    try {
      children = await api.children();
    } catch (ex) {
      clear(list).append(notice('error', ex.text ? ex.text() : t('fam.loadFailed')));
      return;
    }
    clear(list).append(children.length
      ? h('ul', { class: 'child-list' }, children.map((c) => childItem(c, reload)))
      : h('p', { class: 'muted' }, t('fam.none')));
    if (focusChild) (/** @type {HTMLElement | null | undefined} */ (list.querySelector(`[data-child="${focusChild}"] .child-name`)))?.focus();
  };
  reload();
  return el;
}

function schoolsLine(child) {
  return child.schools.map((s) => (s.class_name
    ? t('fam.class', { class: s.class_name, school: s.org_name })
    : s.org_name)).join(' · ');
}

function childItem(child, reload) {
  const name = fullName(child);
  const err = formError();
  const act = (label, onClick, kind = 'secondary', testid = null) => {
    const b = button(label, { kind, attrs: { class: `btn btn-${kind} btn-sm`, ...(testid ? { 'data-testid': testid } : {}) } });
    b.addEventListener('click', async () => {
      err.show('');
      try {
        await onClick(b);
      } catch (ex) {
        err.show(ex.text ? ex.text() : t('error.unknown'));
      }
    });
    return b;
  };
  const withChats = child.schools.some((s) => s.chats_available);
  const create = () => act(t('fam.create'), (b) => createProfile(child, b, reload), 'primary', 'create-child-profile');

  let state;
  let actions = [];
  switch (child.profile) {
    case 'managed': {
      const m = child.managed;
      state = h('div', { class: 'child-state' },
        h('p', null, h('span', { class: 'badge badge-ok' }, t('fam.managed')), ' ',
          h('span', { class: 'muted small' }, t('fam.createdBy', { name: m.created_by, date: formatDate(m.created_at) }))),
        h('p', { class: 'muted small' }, t('fam.devices', { n: m.devices }),
          m.login ? ` · ${t('fam.login', { login: m.login })}` : '',
          m.phone_masked ? ` · ${t('fam.phone', { phone: m.phone_masked })}` : ''));
      actions = [
        act(t('fam.code'), () => showCode(child), 'primary', 'child-code'),
        act(t('fam.loginPassword'), () => loginDialog(child, reload), 'secondary', 'child-login'),
        act(t('fam.sessions'), () => sessionsDialog(child, reload), 'secondary', 'child-sessions'),
        m.phone_masked ? null : act(t('fam.move'), () => moveDialog(child, reload), 'secondary', 'child-move'),
        act(t('fam.unlink'), () => unlinkChild(child, reload), 'danger-outline', 'child-unlink'),
      ];
      break;
    }
    case 'own':
      state = h('p', { class: 'muted' }, t('fam.own'));
      break;
    case 'shared':
      state = notice('warning', t('fam.shared'));
      actions = withChats ? [create()] : [];
      break;
    default:
      state = h('p', { class: 'muted' }, withChats ? t('fam.noProfile') : t('fam.noChats'));
      actions = withChats ? [create()] : [];
  }
  return h('li', { class: 'child-row', 'data-child': String(child.person_id), 'data-state': child.profile },
    h('div', { class: 'child-head' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(child)),
      h('div', null,
        h('h3', { class: 'child-name', tabindex: '-1' }, name),
        h('p', { class: 'muted small' }, schoolsLine(child)))),
    state,
    actions.length ? h('div', { class: 'child-actions' }, ...actions.filter(Boolean)) : null,
    err.el);
}

async function createProfile(child, control, reload) {
  const consent = consentBlock();
  const done = await openDialog({
    title: t('fam.createFor', { name: fullName(child) }),
    build: (body) => body.append(consent.el),
    submitLabel: t('fam.create'),
    onSubmit: async () => {
      if (!consent.check()) return false;
      await api.createChildProfile(child.person_id);
      return true;
    },
  });
  if (!done) return;
  await reload(child.person_id);
  announce(t('fam.created'));
}

function clockTime(secs) {
  return new Date(secs * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

async function showCode(child) {
  const code = await api.childSignInCode(child.person_id);
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(code.qr_svg)}`;
  await openDialog({
    title: t('fam.codeFor', { name: fullName(child) }),
    build: (body) => body.append(
      h('p', null, t('fam.codeLead')),
      h('p', { class: 'child-code', 'data-testid': 'child-code-value' }, code.code),
      h('img', { class: 'child-qr', src: qr, alt: t('fam.codeQr'), width: '200', height: '200' }),
      h('p', { class: 'muted small' }, t('fam.codeUntil', { time: clockTime(code.expires_at) }))),
  });
}

async function loginDialog(child, reload) {
  let login;
  let pw;
  const saved = await openDialog({
    title: t('fam.loginTitle'),
    build: (body) => {
      login = field({
        label: t('fam.loginField'), hint: t('fam.loginHint'),
        input: textInput({ name: 'child-login', autocomplete: 'off', value: child.managed?.login || '', 'data-testid': 'child-login-field' }),
      });
      pw = passwordField({ label: t('set.new'), autocomplete: 'new-password', hint: t('password.newHint'), attrs: { name: 'child-password', 'data-testid': 'child-password-field' } });
      body.append(h('p', null, t('fam.loginLead')), login.wrap, pw.wrap);
    },
    submitLabel: t('common.save'),
    onSubmit: async ({ showError }) => {
      if (pw.input.value.length < 8) {
        showError(t('password.tooShort'));
        pw.input.focus();
        return false;
      }
      await api.setChildLogin(child.person_id, login.input.value.trim(), pw.input.value);
      return true;
    },
  });
  if (!saved) return;
  await reload(child.person_id);
  announce(t('fam.loginSaved'));
}

async function sessionsDialog(child, reload) {
  const sessions = await api.childSessions(child.person_id);
  await openDialog({
    title: t('fam.sessionsTitle'),
    build: (body) => {
      if (!sessions.length) {
        body.append(h('p', { class: 'muted' }, t('fam.noSessions')));
        return;
      }
      const err = formError();
      body.append(h('ul', { class: 'session-list' }, sessions.map((s) => {
        const end = button(t('fam.signOut'), { kind: 'secondary', attrs: { class: 'btn btn-secondary btn-sm' } });
        const li = h('li', { class: 'session-row' },
          h('div', { class: 'session-main' },
            h('p', { class: 'session-line' }, h('span', { class: 'session-device', title: s.user_agent || null }, s.user_agent.slice(0, 60) || t('set.unknownDevice'))),
            h('p', { class: 'muted small' }, t('set.lastSeen', { date: formatDateTime(s.last_seen_at) }))),
          end);
        end.addEventListener('click', async () => {
          try {
            await busy(end, null, () => api.endChildSession(child.person_id, s.id));
            li.remove();
            announce(t('fam.signedOut'));
          } catch (ex) {
            err.show(ex.text ? ex.text() : t('error.unknown'));
          }
        });
        return li;
      })), err.el);
    },
  });
  await reload(child.person_id);
}

async function moveDialog(child, reload) {
  const flow = newFlow();
  const moved = await openDialog({
    title: t('fam.moveTitle'),
    build: (body, close) => body.append(phoneFlow(flow, {
      mode: 'newphone',
      headingLevel: 'h3',
      title: t('fam.moveTitle'),
      lead: t('fam.moveLead'),
      onProof: async (proof) => {
        await api.moveChildToPhone(child.person_id, proof.proof);
        close(true);
      },
    })),
  });
  if (!moved) return;
  await reload(child.person_id);
  announce(t('fam.moved'));
}

async function unlinkChild(child, reload) {
  const ok = await confirmDialog({
    title: t('fam.unlinkTitle'),
    text: t('fam.unlinkText'),
    confirmLabel: t('fam.unlinkConfirm'),
    cancelLabel: t('fam.unlinkKeep'),
    danger: true,
  });
  if (!ok) return;
  await api.deleteChildProfile(child.person_id);
  await reload(child.person_id);
  announce(t('fam.unlinked'));
}
