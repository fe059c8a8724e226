// @ts-check
// The "Чаты" window (manual §2.1): whether chats exist in the organisation,
// linking a learning profile (phone → code or password → "about me"), and once
// linked the way into Parta Мессенджер and unlinking.

import { api } from '../api.js';
import { h, icon, clear, fullName, initials } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import {
  pageTitle, notice, button, linkButton, busy, formError, confirmDialog, announce, emptyState, tWith, phoneText,
} from '../ui.js';
import { newFlow, phoneFlow, aboutForm } from '../phoneflow.js';
import { byOrg } from './home.js';
import { childrenSection, consentBlock } from '../family.js';

export const name = 'chats';

/** Linking in progress, per organisation: it survives a language switch. */
const linking = new Map();

export async function render(ctx) {
  const { params, session, navigate } = ctx;
  const orgs = byOrg(session.me.roles);
  if (!orgs.length) {
    return h('div', { class: 'container narrow' }, pageTitle(t('chats.title')), notice('info', t('home.noRoles')));
  }
  if (!params.org) {
    const best = orgs.find((o) => o.kind === 'general_education' && o.chats) || orgs[0];
    navigate(`/chats/${best.id}`, { replace: true });
    return h('div');
  }
  const win = await api.chats(params.org);
  ctx.setHeaderOrg(win.org_name);

  const body = h('div', { class: 'chats-body' });
  draw(body, win, false);
  return h('div', { class: 'container narrow chats-page' },
    pageTitle(t('chats.title'), orgs.length > 1 ? null : win.org_name),
    orgs.length > 1 ? orgTabs(orgs, win.org_id) : null,
    body);
}

function orgTabs(orgs, current) {
  return h('nav', { class: 'tabs tabs-wrap', 'aria-label': t('chats.orgs') },
    orgs.map((o) => h('a', {
      class: 'tab', href: `#/chats/${o.id}`, 'aria-current': o.id === current ? 'page' : null,
    }, icon('school'), h('span', null, o.name.replace(/№ /g, '№\u00a0')))));
}

/** Fills `body` with the state of the window; `focus` moves the focus into it. */
function draw(body, win, focus) {
  clear(body);
  body.append(content(body, win));
  if (focus) (body.querySelector('[data-autofocus]') || body.querySelector('h2'))?.focus();
}

function content(body, win) {
  if (!win.available) {
    const off = win.unavailable_reason === 'module_off';
    return h('div', { 'data-testid': 'chats-unavailable' },
      notice('info', off ? t('chats.moduleOff') : t('chats.notGeneral'),
        off ? h('p', { class: 'muted' }, t('chats.moduleOffHint')) : null));
  }
  if (win.linked) return linkedView(body, win);

  const state = linking.get(win.org_id) || { screen: 'intro' };
  const move = (screen) => {
    state.screen = screen;
    linking.set(win.org_id, state);
    draw(body, win, true);
  };
  const startOver = () => {
    linking.delete(win.org_id);
    draw(body, win, true);
  };
  const card = (...children) => h('div', { class: 'card chats-card', 'data-screen': state.screen }, ...children);

  switch (state.screen) {
    case 'flow':
      return card(phoneFlow(state.flow, {
        mode: 'link',
        title: t('chats.link'),
        lead: t('chats.linkLead'),
        onCancel: startOver,
        onProof: async (proof) => {
          state.proof = proof;
          move(proof.account_exists ? 'in-use' : 'about');
        },
      }));
    case 'in-use':
      return card(inUse(win, state, move, startOver));
    case 'free-child':
      return card(aboutForm({
        title: t('chats.freeTitle'),
        lead: t('chats.freeLead'),
        initial: win.suggested,
        extra: consentBlock(),
        submitLabel: t('chats.freeSubmit'),
        onStartOver: () => move('in-use'),
        onSubmit: async (about) => linked(body, win, () =>
          api.link(win.org_id, state.proof.proof, { ...about, free_from_child: true, child_consent: true })),
      }));
    case 'about':
      return card(aboutForm({
        lead: t('chats.aboutLead'),
        // The school's spelling of the person's own name: never another Parta ID's.
        initial: win.suggested,
        onStartOver: startOver,
        onSubmit: async (about) => linked(body, win, () => api.link(win.org_id, state.proof.proof, about)),
      }));
    default:
      return card(
        h('div', { class: 'chats-intro' },
          h('span', { class: 'chats-intro-icon', 'aria-hidden': 'true' }, icon('chat')),
          h('div', null,
            h('h2', { class: 'flow-title', tabindex: '-1' }, t('chats.introTitle')),
            h('p', null, t('chats.introText')),
            h('p', { class: 'muted' }, t('chats.introOnce')))),
        h('div', { class: 'flow-actions' },
          button(t('chats.link'), {
            kind: 'primary',
            attrs: { class: 'btn btn-primary btn-lg' },
            onClick: () => {
              state.flow = newFlow();
              move('flow');
            },
          }),
          // Managing chats needs no profile of one's own.
          win.can_manage ? linkButton(t('chats.manage'), `#/chats/${win.org_id}/manage`, { kind: 'secondary', iconName: 'users' }) : null));
  }
}

/** Links with `request`, then shows the linked window. */
async function linked(body, win, request) {
  const next = await request();
  linking.delete(win.org_id);
  draw(body, next, false);
  body.querySelector('h2')?.focus();
  announce(t('chats.linkedDone'));
}

/**
 * The proven phone already has a Parta ID, named only masked («Ева М.»):
 * the person says whose it is. Joining is checked by the server (a student
 * never shares a Parta ID with anyone); its refusal is shown here, with the
 * other ways on.
 */
function inUse(win, state, move, startOver) {
  const err = formError();
  err.el.dataset.testid = 'in-use-error';
  const body = document.querySelector('.chats-body');
  const join = button(t('chats.itsMe'), { kind: 'primary', attrs: { class: 'btn btn-primary btn-lg btn-block', 'data-autofocus': true } });
  join.addEventListener('click', async () => {
    err.show('');
    try {
      await busy(join, t('common.saving'), () => linked(body, win, () => api.link(win.org_id, state.proof.proof, { join: true })));
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });
  const other = button(t('chats.otherNumber'), {
    kind: 'secondary',
    attrs: { class: 'btn btn-secondary btn-lg btn-block' },
    onClick: () => {
      state.flow = newFlow();
      move('flow');
    },
  });
  const child = win.guardian ? button(t('chats.itsMyChild'), {
    kind: 'secondary', attrs: { class: 'btn btn-secondary btn-lg btn-block' }, onClick: () => move('free-child'),
  }) : null;
  const holder = state.proof.holder;
  return [
    h('h2', { class: 'flow-title', tabindex: '-1' }, t('chats.inUseTitle')),
    h('p', { class: 'flow-lead', 'data-testid': 'in-use' },
      holder ? tWith('chats.inUseText', 'holder', h('strong', null, holder)) : t('chats.inUseNobody')),
    h('div', { class: 'flow-choices' }, join, h('p', { class: 'muted small' }, t('chats.joinHint')), err.el, child, other),
    h('div', { class: 'flow-actions' }, button(t('common.cancel'), { kind: 'ghost', onClick: startOver })),
  ];
}

/** The person's chats in this school: what each is, how many are in it. */
function chatList(win, chats, err) {
  return h('ul', { class: 'chat-list', 'data-testid': 'chat-list' },
    ...chats.map((c) => {
      const open = h('button', {
        type: 'button', class: 'chat-item chat-item-open', 'aria-label': t('chats.openChat', { name: c.name }),
      },
      h('span', { class: `chat-kind chat-kind-${c.kind}` }, t(`chats.kind.${c.kind}`)),
      h('span', { class: 'chat-name' }, c.name),
      h('span', { class: 'muted small chat-meta' },
        t('chats.members', { n: c.members }),
        c.admin ? h('span', { class: 'badge' }, t('chats.admin')) : null));
      open.addEventListener('click', () => openMessenger(win, open, err, c.id));
      return h('li', null, open);
    }));
}

/** «Перейти в Parta Мессенджер», signed in by a one-time link; at `chat` if given. */
async function openMessenger(win, control, err, chat) {
  err.show('');
  try {
    const { url } = await busy(control, t('chats.opening'), () => api.messengerToken(win.org_id));
    window.location.assign(chat ? `${url}&chat=${encodeURIComponent(chat)}` : url);
  } catch (ex) {
    err.show(ex.text ? ex.text() : t('error.unknown'));
  }
}

function linkedView(body, win) {
  const p = win.linked;
  const err = formError();
  const open = button(t('chats.open'), { kind: 'primary', iconName: 'chat', attrs: { class: 'btn btn-primary btn-lg', 'data-testid': 'open-messenger' } });
  open.addEventListener('click', () => openMessenger(win, open, err));
  const unlink = button(t('chats.unlink'), { kind: 'danger-outline' });
  unlink.addEventListener('click', async () => {
    err.show('');
    const ok = await confirmDialog({
      title: t('chats.unlinkTitle'),
      text: t('chats.unlinkText', { org: win.org_name }),
      confirmLabel: t('chats.unlinkConfirm'),
      cancelLabel: t('chats.unlinkKeep'),
      danger: true,
    });
    if (!ok) return;
    try {
      const next = await busy(unlink, t('common.saving'), () => api.unlink(win.org_id));
      draw(body, next, true);
      announce(t('chats.unlinked'));
    } catch (ex) {
      err.show(ex.text ? ex.text() : t('error.unknown'));
    }
  });

  return h('div', { class: 'chats-linked', 'data-testid': 'chats-linked' },
    h('section', { class: 'card chats-card profile-card', 'aria-labelledby': 'chats-profile' },
      h('div', { class: 'profile-head' },
        h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, initials(p)),
        h('div', { class: 'profile-text' },
          h('p', { class: 'profile-label' }, t('chats.profile')),
          h('h2', { id: 'chats-profile', class: 'profile-name', tabindex: '-1', 'data-testid': 'profile-name' }, fullName(p)),
          p.phone_masked ? h('p', { class: 'muted', 'data-testid': 'profile-phone' }, tWith('chats.phone', 'phone', phoneText(p.phone_masked))) : null,
          h('p', { class: 'muted small' }, t('chats.linkedAt', { date: formatDate(p.linked_at) })))),
      h('div', { class: 'flow-actions' },
        open,
        win.can_manage ? linkButton(t('chats.manage'), `#/chats/${win.org_id}/manage`, { kind: 'secondary', iconName: 'users' }) : null),
      err.el),
    h('section', { class: 'card chats-card', 'aria-labelledby': 'chats-yours' },
      h('h2', { id: 'chats-yours', class: 'section-title' }, t('chats.yourChats')),
      win.chats.length === 0 ? emptyState(t('chats.empty'), t('chats.emptyHint')) : chatList(win, win.chats, err)),
    win.guardian ? childrenSection({ headingLevel: 'h2' }) : null,
    h('div', { class: 'chats-danger' }, unlink));
}
