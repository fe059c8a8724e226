// @ts-check
// Parta Мессенджер: signing in with Parta ID (or with the one-time link from
// the school portal's «Перейти в Parta Мессенджер»), registering, the chats
// (chat/app.js: the list, the open chat, the socket) with the learning profile
// and its schools beside them, and the account settings.

import { api, ApiError, setUnauthenticatedHandler } from './api.js';
import { h, clear, icon, fullName, initials } from './dom.js';
import { t, lang, onLangChange, formatDate, formatDateTime } from './i18n.js';
import {
  pageShell, announce, notice, button, linkButton, busy, formError, confirmDialog, openDialog,
  passwordField, langSwitch, spinner, pageTitle, field, textInput,
} from './ui.js';
import { childrenSection } from './family.js';
import { myReportsList } from './safeguarding.js';
import { myDataSection } from './datarights.js';
import { newFlow, phoneFlow, aboutForm } from './phoneflow.js';
import { ChatApp } from './chat/app.js';
import { startApp, notificationsSection, installButton } from './pwa.js';

const root = document.getElementById('app');

const state = {
  /** MessengerMe, or null when signed out. */
  me: null,
  /** Shown on the welcome screen once: why the sign-in link did not work. */
  welcomeError: null,
  signin: newFlow(),
  register: { flow: newFlow(), proof: null },
  /** A flow while the number is being changed in the settings. */
  phoneChange: null,
  /** The chats (a ChatApp) while signed in: it keeps its socket across pages. */
  chatApp: null,
};

/** Ends the chats of the signed-out user: socket closed, nothing left in memory. */
function endChats() {
  state.chatApp?.destroy();
  state.chatApp = null;
  document.body.classList.remove('pm-mode', 'pm-chat-open');
}

function chatApp() {
  if (!state.chatApp) {
    state.chatApp = new ChatApp({
      me: state.me,
      welcome: welcomePane,
      navigate,
      onSessionEnded: () => {
        state.me = null;
        state.phoneChange = null;
        endChats();
        render();
      },
    });
  }
  return state.chatApp;
}

/** `/chat/12` → 12; `/` → null; anything else → undefined. */
function chatRoute(p) {
  if (p === '/') return null;
  const m = /^\/chat\/(\d+)$/.exec(p);
  return m ? Number(m[1]) : undefined;
}

function path() {
  return location.hash.replace(/^#/, '') || '/';
}

function navigate(to) {
  const target = `#${to}`;
  if (location.hash === target || (to === '/' && !location.hash)) render();
  else location.hash = target;
}

// ---------------------------------------------------------------- shell

const els = {};

function buildShell() {
  Object.assign(els, pageShell(root, t('msg.name')));
}

function renderHeader() {
  const me = state.me;
  clear(els.header);
  const inner = h('div', { class: 'topbar-inner' },
    h('a', { class: 'brand', href: '#/', 'aria-label': t('msg.name') },
      h('img', { class: 'brand-logo', src: '/assets/logo.svg', alt: '', width: '32', height: '32' }),
      h('span', { class: 'brand-name' }, 'Parta')),
    h('span', { class: 'topbar-org' }, t('msg.short')),
    h('div', { class: 'topbar-slot' }),
    installButton(),
    langSwitch());
  if (me) {
    const a = me.account;
    inner.append(
      h('div', { class: 'topbar-user', title: t('header.user', { name: fullName(a) }) },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(a)),
        h('span', { class: 'user-name' }, h('span', { class: 'sr-only' }, t('header.user', { name: '' })),
          [a.first_name, a.last_name].filter(Boolean).join(' '))),
      button(t('msg.signOut'), { kind: 'ghost', iconName: 'logout', onClick: signOut, attrs: { class: 'btn btn-ghost signout', 'data-testid': 'signout' } }),
    );
  }
  els.header.append(inner);
}

/** Whether this browser is also signed in to the school portal. */
async function portalSignedIn() {
  try {
    await api.me();
    return true;
  } catch {
    return false;
  }
}

async function signOut() {
  // On a shared school computer one sign-out should leave nothing open.
  const portal = await portalSignedIn() && await confirmDialog({
    title: t('msg.signOutBothTitle'),
    text: t('msg.signOutBothText'),
    confirmLabel: t('msg.signOutBoth'),
    cancelLabel: t('msg.signOutOnlyHere'),
  });
  try {
    await api.messengerSignOut({ portal });
  } catch {
    // Signed out here either way.
  }
  state.me = null;
  state.phoneChange = null;
  endChats();
  navigate('/');
  announce(portal ? t('msg.signedOutBoth') : t('msg.signedOut'));
}

setUnauthenticatedHandler(() => {
  if (!state.me) return;
  state.me = null;
  state.phoneChange = null;
  endChats();
  render();
});

// ---------------------------------------------------------------- pages

let lastPath = null;
let initialised = false;
let generation = 0;

async function render() {
  const gen = ++generation;
  let p = path();
  if (!state.me && (p === '/settings')) p = '/';
  if (state.me && (p === '/signin' || p === '/register' || p === '/child')) p = '/';
  const pathChanged = p !== lastPath;
  lastPath = p;
  renderHeader();

  const chatId = state.me ? chatRoute(p) : undefined;
  if (chatId !== undefined) {
    // The chats stay mounted between chats: the feed, the socket and the
    // scroll positions live on; the app moves the focus itself.
    const app = chatApp();
    if (app.el.parentNode !== els.main) clear(els.main).append(app.el);
    document.body.classList.add('pm-mode');
    document.body.dataset.page = 'messenger-in-chats';
    app.route(chatId);
    initialised = true;
    return;
  }
  state.chatApp?.detached();
  document.body.classList.remove('pm-mode', 'pm-chat-open');

  let content;
  try {
    if (!state.me) {
      content = p === '/signin' ? signInPage() : p === '/register' ? registerPage()
        : p === '/child' ? childSignInPage() : welcomePage();
    } else {
      content = p === '/settings' ? await settingsPage() : notFoundPage();
    }
  } catch (e) {
    if (!(e instanceof ApiError)) console.error(e);
    content = h('div', { class: 'container narrow' }, pageTitle(t('error.unknown')),
      notice('error', e instanceof ApiError ? e.text() : t('error.unknown')));
  }
  if (gen !== generation) return;
  clear(els.main).append(content);
  const h1 = els.main.querySelector('h1');
  document.title = h1 && p !== '/' ? `${h1.textContent} — ${t('msg.name')}` : t('msg.name');
  document.body.dataset.page = `messenger-${state.me ? 'in' : 'out'}${p.replace(/\//g, '-')}`;
  if (pathChanged) {
    const target = els.main.querySelector('[data-autofocus]') || (initialised ? h1 : null);
    if (target) target.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  initialised = true;
}

/** Moves the focus to the new content after an in-page step. */
function focusMain() {
  (els.main.querySelector('[data-autofocus]') || els.main.querySelector('h1'))?.focus();
}

function welcomePage() {
  const err = state.welcomeError;
  state.welcomeError = null;
  return h('div', { class: 'container narrow welcome' },
    h('div', { class: 'card welcome-card' },
      h('img', { class: 'welcome-logo', src: '/assets/logo.svg', alt: '', width: '64', height: '64' }),
      h('h1', { tabindex: '-1', id: 'page-h1' }, t('msg.name')),
      h('p', { class: 'lead' }, t('msg.lead')),
      err ? h('div', { class: 'welcome-error', 'data-testid': 'welcome-error' }, notice('error', err)) : null,
      h('div', { class: 'welcome-actions' },
        linkButton(t('msg.signIn'), '#/signin', { kind: 'primary', attrs: { class: 'btn btn-primary btn-lg btn-block' } }),
        linkButton(t('msg.register'), '#/register', { kind: 'secondary', attrs: { class: 'btn btn-secondary btn-lg btn-block' } })),
      h('p', { class: 'welcome-hint' }, t('msg.schoolHint')),
      h('p', { class: 'welcome-hint' }, h('a', { href: '#/child', 'data-testid': 'child-signin-link' }, t('msg.childSignIn')))));
}

/**
 * «Войти по коду от родителя»: a child with a child profile signs in by the
 * code a guardian's device shows (or scanned as a QR, which lands here with
 * it), or by the login and password the guardian set.
 */
function childSignInPage() {
  const after = (me) => {
    state.me = me;
    navigate('/');
    announce(t('msg.signedIn'));
  };
  const codeInput = textInput({
    name: 'child-code', autocomplete: 'one-time-code', autocapitalize: 'characters', spellcheck: 'false',
    class: 'input input-code', placeholder: 'ABCD-EFGH', 'data-autofocus': true, 'data-testid': 'child-code',
  });
  const code = field({ label: t('msg.childCode'), input: codeInput, hint: t('msg.childCodeHint') });
  const codeErr = formError();
  const codeSubmit = button(t('msg.signIn'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-lg' } });
  const codeForm = h('form', { class: 'form flow-form', novalidate: true }, code.wrap, codeErr.el, h('div', { class: 'flow-actions' }, codeSubmit));
  codeForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    codeErr.show('');
    try {
      after(await busy(codeSubmit, t('flow.checking'), () => api.messengerSignIn({ child_code: codeInput.value })));
    } catch (ex) {
      codeErr.show(ex.text ? ex.text() : t('error.unknown'));
      codeInput.focus();
    }
  });

  const login = field({ label: t('login.login'), input: textInput({ name: 'username', autocomplete: 'username', 'data-testid': 'child-login' }) });
  const pw = passwordField({ label: t('login.password'), attrs: { name: 'password', 'data-testid': 'child-password' } });
  const loginErr = formError();
  const loginSubmit = button(t('msg.signIn'), { kind: 'secondary', type: 'submit', attrs: { class: 'btn btn-secondary btn-lg' } });
  const loginForm = h('form', { class: 'form flow-form', novalidate: true }, login.wrap, pw.wrap, loginErr.el, h('div', { class: 'flow-actions' }, loginSubmit));
  loginForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    loginErr.show('');
    try {
      after(await busy(loginSubmit, t('flow.checking'), () => api.messengerSignIn({ login: login.input.value, password: pw.input.value })));
    } catch (ex) {
      loginErr.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  return h('div', { class: 'container narrow' },
    h('div', { class: 'card flow-card' },
      h('h1', { class: 'flow-title', tabindex: '-1', id: 'page-h1' }, t('msg.childTitle')),
      h('p', { class: 'flow-lead' }, t('msg.childLead')),
      codeForm),
    h('div', { class: 'card flow-card' },
      h('h2', { class: 'flow-title' }, t('msg.childLoginTitle')),
      loginForm),
    h('p', null, linkButton(t('common.back'), '#/', { kind: 'ghost' })));
}

function signInPage() {
  return h('div', { class: 'container narrow' }, h('div', { class: 'card flow-card' }, phoneFlow(state.signin, {
    mode: 'signin',
    headingLevel: 'h1',
    title: t('msg.signInTitle'),
    lead: t('msg.signInLead'),
    onCancel: () => {
      state.signin = newFlow();
      navigate('/');
    },
    onRegister: (flow) => {
      state.register = { flow: newFlow(flow.display), proof: flow.pendingProof || null };
      state.signin = newFlow();
      navigate('/register');
    },
    onProof: async (proof, ctl) => {
      let me;
      try {
        me = await api.messengerSignIn({ proof: proof.proof });
      } catch (ex) {
        if (ex.code !== 'no_account') throw ex;
        // The proof is still good: registering goes straight to "about me".
        state.signin.pendingProof = proof;
        ctl.go('no-account');
        return;
      }
      state.me = me;
      state.signin = newFlow();
      navigate('/');
      announce(t('msg.signedIn'));
    },
  })));
}

function registerPage() {
  const reg = state.register;
  const startOver = () => {
    state.register = { flow: newFlow(), proof: null };
    render().then(focusMain);
  };
  if (reg.proof) {
    return h('div', { class: 'container narrow' }, h('div', { class: 'card flow-card' }, aboutForm({
      headingLevel: 'h1',
      lead: t('msg.registerAbout'),
      initial: null,
      withPassword: true,
      submitLabel: t('msg.registerSubmit'),
      onStartOver: startOver,
      onSubmit: async (about) => {
        const me = await api.messengerRegister({ proof: reg.proof.proof, ...about });
        state.me = me;
        state.register = { flow: newFlow(), proof: null };
        navigate('/');
        announce(t('msg.registered'));
      },
    })));
  }
  return h('div', { class: 'container narrow' }, h('div', { class: 'card flow-card' }, phoneFlow(reg.flow, {
    mode: 'register',
    headingLevel: 'h1',
    title: t('msg.registerTitle'),
    lead: t('msg.registerLead'),
    onCancel: () => {
      state.register = { flow: newFlow(), proof: null };
      navigate('/');
    },
    onSignIn: async (flow, proof) => {
      // The code just proved the number: it signs in without another one.
      state.me = await api.messengerSignIn({ proof: proof.proof });
      state.register = { flow: newFlow(), proof: null };
      navigate('/');
      announce(t('msg.signedIn'));
    },
    onProof: async (proof) => {
      reg.proof = proof;
      await render();
      focusMain();
    },
  })));
}

function greeting(a) {
  const name = lang() === 'ru' ? [a.first_name, a.middle_name].filter(Boolean).join(' ') : a.first_name;
  return t('msg.hello', { name });
}

function tabs(current) {
  const tab = (id, href, label, iconName) => h('a', {
    class: 'tab', href, 'aria-current': current === id ? 'page' : null,
  }, icon(iconName), h('span', null, label));
  return h('nav', { class: 'tabs', 'aria-label': t('msg.sections') },
    tab('chats', '#/', t('msg.tabChats'), 'chat'),
    tab('settings', '#/settings', t('msg.tabSettings'), 'key'));
}

/** Beside the chat list while no chat is open: who you are and your schools. */
function welcomePane() {
  const me = state.me;
  let profile;
  if (!me.profile) {
    profile = h('section', { class: 'card section-card', 'aria-labelledby': 'no-profile', 'data-testid': 'no-profile' },
      h('h3', { id: 'no-profile', class: 'section-title' }, icon('info'), h('span', null, t('msg.noProfileTitle'))),
      h('p', null, t('msg.noProfileText')),
      h('p', { class: 'section-actions' }, linkButton(t('msg.toPortal'), '/', { kind: 'secondary', iconName: 'school' })));
  } else {
    profile = h('section', { class: 'card section-card', 'aria-labelledby': 'profile-name', 'data-testid': 'profile' },
      h('div', { class: 'profile-head' },
        h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, initials(me.profile)),
        h('div', { class: 'profile-text' },
          h('p', { class: 'profile-label' }, t('msg.profile')),
          h('h3', { id: 'profile-name', class: 'profile-name' }, fullName(me.profile)))),
      me.links.length
        ? h('ul', { class: 'school-list', 'data-testid': 'schools' }, me.links.map((l) => h('li', { class: 'school-row' },
          h('span', { class: 'school-icon', 'aria-hidden': 'true' }, icon('school')),
          h('span', { class: 'school-text' },
            h('span', { class: 'school-name' }, l.org_name),
            h('span', { class: 'muted small' }, t('msg.linkedAt', { date: formatDate(l.linked_at) }))))))
        : h('p', { class: 'muted' }, t('msg.noSchools')));
  }
  return h('div', { class: 'pm-welcome-inner' },
    h('div', { class: 'pm-welcome-head' },
      h('img', { class: 'pm-welcome-logo', src: '/assets/logo.svg', alt: '', width: '56', height: '56' }),
      h('h2', { class: 'pm-greeting', 'data-testid': 'greeting' }, greeting(me.account)),
      me.profile && me.links.length ? h('p', { class: 'pm-welcome-lead' }, t('chat.welcome')) : null),
    profile);
}

function notFoundPage() {
  return h('div', { class: 'container narrow' }, pageTitle(t('error.notFound')),
    notice('info', t('error.notFoundHint'), h('p', null, linkButton(t('error.toHome'), '#/', { kind: 'secondary' }))));
}

// ---------------------------------------------------------------- settings

/** "Chrome на Linux" from a user agent. */
function deviceName(ua) {
  if (!ua) return t('set.unknownDevice');
  const browser = /YaBrowser\//.test(ua) ? 'Яндекс Браузер'
    : /Edg\//.test(ua) ? 'Edge'
      : /OPR\//.test(ua) ? 'Opera'
        : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
          : /Chrome\/|CriOS\//.test(ua) ? 'Chrome'
            : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /Android/.test(ua) ? 'Android'
    : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
      : /Windows/.test(ua) ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
          : /CrOS/.test(ua) ? 'ChromeOS'
            : /Linux/.test(ua) ? 'Linux' : null;
  if (browser && os) return t('set.on', { browser, os });
  return browser || os || ua.slice(0, 60);
}

function card(id, title, ...children) {
  return h('section', { class: 'card section-card', 'aria-labelledby': id, 'data-testid': id },
    h('h2', { id, class: 'section-title' }, title), ...children);
}

async function settingsPage() {
  const a = state.me.account;
  const sessions = h('div', { class: 'sessions' }, spinner());
  loadSessions(sessions);
  // «Дети» only for those the school lists as a parent.
  const kids = await api.children().catch(() => []);
  const children = kids.length ? childrenSection({ headingLevel: 'h2' }) : null;
  return h('div', { class: 'container narrow settings' },
    pageTitle(t('set.title')),
    tabs('settings'),
    h('div', { class: 'stack' },
      card('set-account', t('set.account'),
        h('dl', { class: 'facts facts-stack' },
          h('div', null, h('dt', null, t('set.name')), h('dd', { 'data-testid': 'account-name' }, fullName(a),
            ' ', button(t('set.rename'), { kind: 'ghost', iconName: 'edit', onClick: renameDialog, attrs: { class: 'btn btn-ghost btn-sm', 'data-testid': 'rename' } }))),
          h('div', null, h('dt', null, t('set.phone')), h('dd', { 'data-testid': 'account-phone' }, a.phone || t('common.none')))),
        phoneChangeBlock(a)),
      card('set-password', t('set.password'),
        h('p', { 'data-testid': 'password-state' }, a.has_password ? t('set.passwordSet') : t('set.passwordNone')),
        h('p', { class: 'section-actions' },
          button(a.has_password ? t('set.changePassword') : t('set.setPassword'), { kind: 'secondary', iconName: 'key', onClick: passwordDialog }))),
      card('set-push', t('push.title'), await notificationsSection()),
      card('set-sessions', t('set.sessions'), h('p', { class: 'muted' }, t('set.sessionsLead')), sessions),
      card('set-reports', t('sg.mine'), await myReportsList()),
      card('set-data', t('dr.mine'), await myDataSection()),
      children,
      card('set-exit', t('set.exit'),
        h('p', null, t('set.exitText')),
        h('p', { class: 'section-actions' }, button(t('msg.signOut'), { kind: 'secondary', iconName: 'logout', onClick: signOut }))),
      card('set-delete', t('set.delete'),
        h('p', null, t('set.deleteText')),
        h('p', { class: 'section-actions' }, button(t('set.delete'), { kind: 'danger', onClick: deleteAccount })))));
}

function phoneChangeBlock(a) {
  if (!state.phoneChange) {
    return h('p', { class: 'section-actions' }, button(t('set.changePhone'), {
      kind: 'secondary', iconName: 'edit',
      onClick: async () => {
        state.phoneChange = newFlow();
        await render();
        els.main.querySelector('[data-testid="set-account"] [data-autofocus]')?.focus();
      },
    }));
  }
  const close = async () => {
    state.phoneChange = null;
    await render();
    els.main.querySelector('[data-testid="set-account"] button')?.focus();
  };
  return h('div', { class: 'inset' }, phoneFlow(state.phoneChange, {
    mode: 'newphone',
    headingLevel: 'h3',
    title: t('set.newPhoneTitle'),
    lead: t('set.newPhoneLead'),
    currentPhone: a.phone,
    onCancel: close,
    onProof: async (proof) => {
      state.me = await api.changeMessengerPhone(proof.proof);
      await close();
      announce(t('set.phoneSaved'));
    },
  }));
}

async function loadSessions(el) {
  let list;
  try {
    list = await api.messengerSessions();
  } catch (ex) {
    clear(el).append(notice('error', ex.text ? ex.text() : t('error.unknown')));
    return;
  }
  const err = formError();
  const ul = h('ul', { class: 'session-list', 'data-testid': 'session-list' }, list.map((s) => {
    const device = deviceName(s.user_agent);
    const li = h('li', { class: 'session-row', 'data-current': String(s.current) },
      h('div', { class: 'session-main' },
        h('p', { class: 'session-line' },
          h('span', { class: 'session-device', title: s.user_agent || null }, device),
          s.current ? h('span', { class: 'badge badge-ok' }, t('set.thisSession')) : null,
          s.from_school ? h('span', { class: 'badge' }, icon('school'), t('set.fromSchool')) : null),
        h('p', { class: 'muted small' }, t('set.lastSeen', { date: formatDateTime(s.last_seen_at) })),
        h('p', { class: 'muted small' }, t('set.signedInAt', { date: formatDateTime(s.created_at) }))));
    if (!s.current) {
      const end = button(t('set.end'), { kind: 'secondary', attrs: { class: 'btn btn-secondary btn-sm', 'aria-label': t('set.endFor', { device }) } });
      end.addEventListener('click', async () => {
        err.show('');
        try {
          await busy(end, null, () => api.endMessengerSession(s.id));
        } catch (ex) {
          err.show(ex.text ? ex.text() : t('error.unknown'));
          return;
        }
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        (next?.querySelector('button') || el.closest('section')?.querySelector('h2'))?.focus();
        announce(t('set.ended'));
      });
      li.append(end);
    }
    return li;
  }));
  clear(el).append(ul, err.el);
}

/** The holder renames their own Parta ID: no one else can. */
function renameDialog() {
  const a = state.me.account;
  let form;
  return openDialog({
    title: t('set.renameTitle'),
    submitLabel: t('common.save'),
    build: (body) => {
      const make = (name, autocomplete, value) => textInput({ name, autocomplete, value: value || '', autocapitalize: 'words' });
      form = {
        last: field({ label: t('about.lastName'), input: make('last_name', 'family-name', a.last_name) }),
        first: field({ label: t('about.firstName'), input: make('first_name', 'given-name', a.first_name) }),
        middle: field({ label: t('about.middleName'), input: make('middle_name', 'additional-name', a.middle_name), optional: true }),
      };
      body.append(form.last.wrap, form.first.wrap, form.middle.wrap);
    },
    onSubmit: async () => {
      state.me = await api.renameMessengerAccount({
        last_name: form.last.input.value.trim(),
        first_name: form.first.input.value.trim(),
        middle_name: form.middle.input.value.trim() || null,
      });
      await render();
      announce(t('set.renamed'));
      return true;
    },
  });
}

function passwordDialog() {
  const has = state.me.account.has_password;
  let current;
  let next;
  let repeat;
  return openDialog({
    title: has ? t('set.changePassword') : t('set.setPassword'),
    submitLabel: t('common.save'),
    build: (body) => {
      if (has) {
        current = passwordField({ label: t('set.current'), attrs: { name: 'current-password' } });
        body.append(current.wrap);
      }
      next = passwordField({ label: t('set.new'), autocomplete: 'new-password', hint: t('password.newHint'), attrs: { name: 'new-password' } });
      repeat = passwordField({ label: t('set.repeat'), autocomplete: 'new-password', attrs: { name: 'repeat-password' } });
      body.append(next.wrap, repeat.wrap);
    },
    onSubmit: async ({ showError }) => {
      if (has && !current.input.value) {
        showError(t('login.needPassword'));
        current.input.focus();
        return false;
      }
      if (next.input.value.length < 8) {
        showError(t('password.tooShort'));
        next.input.focus();
        return false;
      }
      if (next.input.value !== repeat.input.value) {
        showError(t('password.mismatch'));
        repeat.input.focus();
        return false;
      }
      await api.setMessengerPassword(has ? current.input.value : null, next.input.value);
      state.me.account.has_password = true;
      await render();
      announce(t('set.passwordSaved'));
      return true;
    },
  });
}

async function deleteAccount() {
  const ok = await confirmDialog({
    title: t('set.deleteTitle'),
    text: t('set.deleteDialog'),
    confirmLabel: t('set.deleteConfirm'),
    danger: true,
  });
  if (!ok) return;
  try {
    await api.deleteMessengerAccount();
  } catch (ex) {
    announce(ex.text ? ex.text() : t('error.unknown'));
    return;
  }
  state.me = null;
  state.phoneChange = null;
  navigate('/');
  announce(t('set.deleted'));
}

// ---------------------------------------------------------------- start

/**
 * «Перейти в Parta Мессенджер» lands here with a one-time token in the
 * address: exchange it for a session and take it out of the address at once.
 * Returns whether there was one.
 */
async function takeToken() {
  const m = /^#(token|child-code)=([^&]+)(?:&chat=(\d+))?/.exec(location.hash);
  if (!m) return false;
  const [, kind, value, chat] = m;
  // Out of the address at once: it must not stay in the history or be shared.
  history.replaceState(null, '', location.pathname + location.search + (chat ? `#/chat/${chat}` : ''));
  const form = kind === 'token' ? { token: decodeURIComponent(value) } : { child_code: decodeURIComponent(value) };
  try {
    state.me = await api.messengerSignIn(form);
  } catch (ex) {
    state.welcomeError = ex.code === 'sign_in_link_invalid' ? t('msg.tokenStale') : ex.text();
  }
  return true;
}

async function start() {
  startApp((chat) => { window.location.hash = `#/chat/${chat}`; });
  buildShell();
  onLangChange(async (code) => {
    buildShell();
    state.chatApp?.relang();
    await render();
    els.header.querySelector(`.lang-btn[data-lang="${code}"]`)?.focus();
  });
  els.main.append(h('div', { class: 'container' }, spinner()));

  await takeToken();
  if (!state.me) {
    try {
      state.me = await api.messengerMe();
      // Signed in already on this device: a stale link changes nothing.
      state.welcomeError = null;
    } catch {
      state.me = null;
    }
  }
  window.addEventListener('hashchange', async () => {
    const wasSignedIn = Boolean(state.me);
    if (await takeToken()) {
      state.phoneChange = null;
      if (wasSignedIn && state.welcomeError) {
        announce(state.welcomeError);
        state.welcomeError = null;
      }
    }
    render();
  });
  await render();
  document.body.classList.add('is-ready');
}

start();
