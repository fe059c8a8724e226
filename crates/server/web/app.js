// @ts-check
// Parta school portal: the shell (header, language switch, sign-out), the
// session, and a hash router that renders one page module at a time.

import { api, ApiError, setUnauthenticatedHandler } from './api.js';
import { h, clear, fullName, initials, icon } from './dom.js';
import { t, onLangChange } from './i18n.js';
import { pageShell, notice, linkButton, pageTitle, spinner, button, langSwitch, announce } from './ui.js';
import * as loginPage from './pages/login.js';
import * as passwordPage from './pages/password.js';
import * as homePage from './pages/home.js';
import * as rosterPage from './pages/roster.js';
import * as classPage from './pages/class.js';
import * as personPage from './pages/person.js';
import * as slipPage from './pages/slip.js';
import * as chatsPage from './pages/chats.js';
import * as messagingPage from './pages/messaging.js';
import * as managePage from './pages/manage.js';
import * as manageChatPage from './pages/manage-chat.js';
import * as manageAuditPage from './pages/manage-audit.js';
import * as reportsPage from './pages/reports.js';
import * as dataPage from './pages/data.js';
import * as quietPage from './pages/quiet.js';

const root = document.getElementById('app');

/** Who is signed in; null when nobody is. */
const session = {
  me: null,
  /** The password typed at sign-in, kept in memory only until it is replaced. */
  signInPassword: null,
  /** Org names by id, for the header. */
  orgNames: new Map(),
};

const routes = [
  { path: /^\/?$/, page: homePage },
  { path: /^\/roster\/?$/, page: rosterPage, params: () => ({ tab: 'pick' }) },
  { path: /^\/roster\/(\d+)\/?$/, page: rosterPage, params: (m) => ({ org: m[1], tab: 'classes' }) },
  { path: /^\/roster\/(\d+)\/people\/?$/, page: rosterPage, params: (m) => ({ org: m[1], tab: 'people' }) },
  { path: /^\/roster\/(\d+)\/messaging\/?$/, page: messagingPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/roster\/(\d+)\/data\/?$/, page: dataPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/roster\/(\d+)\/quiet\/?$/, page: quietPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/roster\/(\d+)\/class\/(\d+)\/?$/, page: classPage, params: (m) => ({ org: m[1], id: m[2] }) },
  { path: /^\/roster\/(\d+)\/class\/(\d+)\/slip\/?$/, page: slipPage, params: (m) => ({ org: m[1], id: m[2] }) },
  { path: /^\/roster\/(\d+)\/person\/(\d+)\/?$/, page: personPage, params: (m) => ({ org: m[1], id: m[2] }) },
  { path: /^\/chats\/?$/, page: chatsPage },
  { path: /^\/chats\/(\d+)\/?$/, page: chatsPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/chats\/(\d+)\/manage\/?$/, page: managePage, params: (m) => ({ org: m[1] }) },
  { path: /^\/chats\/(\d+)\/manage\/audit\/?$/, page: manageAuditPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/chats\/(\d+)\/manage\/reports\/?$/, page: reportsPage, params: (m) => ({ org: m[1] }) },
  { path: /^\/chats\/(\d+)\/manage\/(\d+)\/?$/, page: manageChatPage, params: (m) => ({ org: m[1], chat: m[2] }) },
];

function parseHash() {
  const raw = decodeURI(location.hash.replace(/^#/, '')) || '/';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

function navigate(hash, { replace = false } = {}) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (location.hash === target) {
    render();
  } else if (replace) {
    history.replaceState(null, '', target);
    render();
  } else {
    location.hash = target;
  }
}

// ---------------------------------------------------------------- shell

const els = {};

function buildShell() {
  Object.assign(els, pageShell(root, t('app.tagline')));
  renderHeader();
}

let headerOrg = null;

/** The organisation the current page is about, named in the header. */
function setHeaderOrg(name) {
  headerOrg = name;
  const el = els.header?.querySelector('.topbar-org');
  if (el) {
    el.textContent = name || defaultOrgLabel();
  }
}

function defaultOrgLabel() {
  if (!session.me) return '';
  const schoolsFirst = [...session.me.roles].sort((a, b) =>
    Number(a.org_kind !== 'general_education') - Number(b.org_kind !== 'general_education'));
  const names = [...new Set(schoolsFirst.map((r) => r.org_name))];
  return names.join(' · ');
}

function renderHeader() {
  const me = session.me;
  clear(els.header);
  const brand = h('a', { class: 'brand', href: '#/', 'aria-label': `Parta — ${t('header.home')}` },
    h('img', { class: 'brand-logo', src: '/assets/logo.svg', alt: '', width: '32', height: '32' }),
    h('span', { class: 'brand-name' }, 'Parta'));
  const inner = h('div', { class: 'topbar-inner' }, brand);
  if (me) {
    inner.append(h('span', { class: 'topbar-org' }, headerOrg || defaultOrgLabel()));
  }
  const slot = h('div', { class: 'topbar-slot', id: 'topbar-slot' });
  if (me && !me.person.must_change_password) {
    const onChats = parseHash().path.startsWith('/chats');
    slot.append(h('a', {
      class: 'btn btn-ghost topbar-chats', href: '#/chats', title: t('header.chats'),
      'aria-current': onChats ? 'page' : null, 'data-testid': 'chats-button',
    }, icon('chat'), h('span', { class: 'btn-label' }, t('header.chats'))));
  }
  inner.append(slot);
  inner.append(langSwitch());
  if (me) {
    const name = [me.person.first_name, me.person.last_name].filter(Boolean).join(' ');
    inner.append(
      h('div', { class: 'topbar-user', title: t('header.user', { name: fullName(me.person) }) },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(me.person)),
        h('span', { class: 'user-name' }, h('span', { class: 'sr-only' }, t('header.user', { name: '' })), name)),
      button(t('header.signout'), { kind: 'ghost', iconName: 'logout', onClick: signOut, attrs: { class: 'btn btn-ghost signout', 'data-testid': 'signout' } }),
    );
  }
  els.header.append(inner);
}

async function signOut() {
  let ended = null;
  try {
    ended = await api.logout();
  } catch {
    // Signed out locally either way.
  }
  session.me = null;
  session.signInPassword = null;
  headerOrg = null;
  renderHeader();
  navigate('/', { replace: true });
  // The messenger on this device closes with the portal: say so.
  announce(ended?.messenger_signed_out ? t('header.signedOutBoth') : t('header.signedOut'));
}

setUnauthenticatedHandler(() => {
  if (!session.me) return;
  session.me = null;
  renderHeader();
  render();
});

// ---------------------------------------------------------------- pages

let generation = 0;
let lastPath = null;
let initialised = false;

async function render() {
  const gen = ++generation;
  const { path, query } = parseHash();
  const pathChanged = path !== lastPath;
  lastPath = path;
  headerOrg = null;
  renderHeader();

  let page;
  let params = {};
  if (!session.me) {
    page = loginPage;
  } else if (session.me.person.must_change_password) {
    page = passwordPage;
  } else {
    const route = routes.find((r) => r.path.test(path));
    if (route) {
      page = route.page;
      params = route.params ? route.params(path.match(route.path)) : {};
    }
  }

  const slow = setTimeout(() => {
    if (gen === generation) clear(els.main).append(h('div', { class: 'container' }, spinner()));
  }, 150);
  let content;
  try {
    content = page ? await page.render({ params, query, session, navigate, rerender: render, afterSignIn, setHeaderOrg, reloadMe })
      : notFound();
  } catch (e) {
    content = errorPage(e);
  } finally {
    clearTimeout(slow);
  }
  if (gen !== generation) return;
  clear(els.main).append(content);
  const h1 = els.main.querySelector('h1');
  document.title = h1 ? `${h1.textContent} — Parta` : 'Parta';
  document.body.dataset.page = page?.name || 'error';
  if (pathChanged) {
    const target = els.main.querySelector('[data-autofocus]') || (initialised ? h1 : null);
    if (target) target.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  initialised = true;
}

function notFound() {
  return h('div', { class: 'container narrow' },
    pageTitle(t('error.notFound')),
    notice('info', t('error.notFoundHint'), h('p', null, linkButton(t('error.toHome'), '#/', { kind: 'primary' }))));
}

function errorPage(e) {
  if (!(e instanceof ApiError)) console.error(e);
  const text = e instanceof ApiError ? e.text() : t('error.unknown');
  const title = e instanceof ApiError && e.status === 403 ? t('error.forbiddenTitle')
    : e instanceof ApiError && e.status === 404 ? t('error.notFound') : t('error.unknown');
  return h('div', { class: 'container narrow' },
    pageTitle(title),
    notice('error', text,
      h('p', { class: 'notice-actions' },
        linkButton(t('error.toHome'), '#/', { kind: 'secondary', iconName: 'home' }),
        e instanceof ApiError && e.status !== 403 && e.status !== 404
          ? button(t('error.retry'), { kind: 'ghost', onClick: () => render() }) : null)));
}

/** Called by the login page with the fresh `Me`. */
function afterSignIn(me, password) {
  session.me = me;
  session.signInPassword = me.person.must_change_password ? password : null;
  render();
}

/** Refreshes who is signed in (after a password change). */
async function reloadMe() {
  session.me = await api.me();
  session.signInPassword = null;
  return session.me;
}

async function start() {
  buildShell();
  onLangChange(async (code) => {
    buildShell();
    await render();
    els.header.querySelector(`.lang-btn[data-lang="${code}"]`)?.focus();
  });
  els.main.append(h('div', { class: 'container' }, spinner()));
  try {
    session.me = await api.me();
  } catch {
    session.me = null;
  }
  window.addEventListener('hashchange', () => render());
  await render();
  document.body.classList.add('is-ready');
}

start();
