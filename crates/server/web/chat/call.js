// @ts-check
// Calls in the messenger (docs/protocol.md, «Calls»): the live calls of the
// user's chats as `call_state` tells them, a conversation's call buttons and
// «Идёт звонок — Присоединиться» banner, the incoming-call dialog of a direct
// chat, and the one call this tab is in (call-session.js) with its view
// (call-view.js). Nothing here plays a sound.

import { h } from '../dom.js';
import { t, plural, errorText } from '../i18n.js';
import { announce, confirmDialog, openDialog, button } from '../ui.js';
import { CallSession } from './call-session.js';
import { CallView } from './call-view.js';
import { svg, PHONE, CAMERA } from './call-icons.js';
import * as fmt from './format.js';
import './call-strings.js';

/** After `ready`, how long its `call_state`s (one per live call) may take: a call without one is over. */
const STATES_SETTLE_MS = 1500;

const LEFT_REASONS = ['removed', 'not_member', 'ended', 'elsewhere'];
const END_REASONS = ['finished', 'missed', 'declined', 'ended_by_moderator', 'server_restart'];

/** The calls' stylesheet, once per page. */
function ensureStyles() {
  if (document.querySelector('link[data-pm-call]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/call.css', 'data-pm-call': '' }));
}

export class CallManager {
  /** @param {import('./app.js').ChatApp} app */
  constructor(app) {
    ensureStyles();
    this.app = app;
    /** chat → its live Call. */
    this.calls = new Map();
    this.iceServers = [];
    /** The call this tab is in (a CallSession) and its view. */
    this.session = null;
    this.view = null;
    /** The incoming-call dialog showing: {chat, call, close}. */
    this.ringing = null;
    /** After a `ready`: chats whose call has not been confirmed by a `call_state` yet. */
    this.unconfirmed = null;
    /** The session's call id while a reconnected socket waits for its `call_state`. */
    this.resuming = null;
    /** The call `call_left {reason: "ended"}` just closed, until its `call_ended` tells why. */
    this.endedCall = null;
    this.host = null;
    this.expose();
  }

  send(frame) {
    return this.app.socket.send(frame);
  }

  /** The user's person id in a chat. */
  meIn(chat) {
    return this.app.store.chats.get(chat)?.me;
  }

  destroy() {
    this.leave();
    this.stopRinging();
    clearTimeout(this.settleTimer);
  }

  /** Tests read the peer connection's stats and the voices playing through this. */
  expose() {
    const s = this.session;
    /** @type {any} */ (window).__partaCall = { pc: s?.pc ?? null, callId: s?.callId ?? null, voices: s?.voices ?? null };
  }

  changed(chat) {
    this.app.callsChanged(chat);
  }

  // ------------------------------------------------------------ frames

  /** Takes the frames about calls; true when the store has nothing to do with it. */
  handleFrame(f) {
    switch (f.type) {
      case 'ready':
        this.onReady(f);
        return false;
      case 'call_state':
        this.onState(f);
        return true;
      case 'call_ended':
        this.onEnded(f);
        return true;
      case 'call_joined':
        this.onJoined(f);
        return true;
      case 'call_offer':
        this.session?.onOffer(f);
        return true;
      case 'call_speaker':
        this.session?.onSpeaker(f);
        return true;
      case 'call_left':
        this.onLeft(f);
        return true;
      case 'call_muted':
        this.onMuted(f);
        return true;
      case 'error':
        if (!String(f.code).startsWith('call_')) return false;
        this.onError(f);
        return true;
      default:
        return false;
    }
  }

  onReady(f) {
    this.iceServers = f.ice_servers || [];
    // Every live call comes again as a `call_state`; the ones that do not are over.
    this.unconfirmed = new Set(this.calls.keys());
    const s = this.session;
    if (s) {
      s.socketReady();
      // In the call before the socket dropped: back in it with a fresh offer
      // once its `call_state` says it still goes on. Never joined: join now,
      // unless the first offer is still being made (it goes out by itself).
      if (s.callId !== null) {
        this.resuming = s.callId;
        this.unconfirmed.add(s.chat);
      } else if (s.pc) {
        s.rejoin();
      }
    }
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.dropUnconfirmed(), STATES_SETTLE_MS);
  }

  dropUnconfirmed() {
    const gone = this.unconfirmed || new Set();
    this.unconfirmed = null;
    for (const chat of gone) {
      this.calls.delete(chat);
      if (this.ringing?.chat === chat) this.stopRinging();
      this.changed(chat);
    }
    if (this.resuming !== null) this.endSession(t('call.left.ended'));
  }

  onState(f) {
    const call = f.call;
    if (!this.app.store.chats.has(f.chat)) this.app.store.loadList().catch(() => {});
    this.calls.set(f.chat, call);
    this.unconfirmed?.delete(f.chat);
    const s = this.session;
    if (s && s.chat === f.chat && s.callId !== null) {
      if (s.callId !== call.id) {
        // Ours ended while the socket was away; this one is somebody's new call.
        this.endSession(t('call.left.ended'));
      } else {
        s.update(call);
        if (this.resuming === call.id) {
          this.resuming = null;
          s.rejoin();
        }
      }
    }
    this.ring(f.chat, call);
    this.changed(f.chat);
  }

  onEnded(f) {
    if (this.calls.get(f.chat)?.id === f.call) this.calls.delete(f.chat);
    if (this.ringing?.call === f.call) this.stopRinging();
    const why = t(`call.ended.${END_REASONS.includes(f.reason) ? f.reason : 'finished'}`);
    if (this.session?.callId === f.call) this.endSession(why);
    // `call_left {reason: "ended"}` closed it a moment ago: this says how it ended.
    else if (this.endedCall === f.call) announce(why);
    this.endedCall = null;
    this.changed(f.chat);
  }

  onJoined(f) {
    const s = this.session;
    this.calls.set(f.call.chat, f.call);
    if (s && s.chat === f.call.chat) s.onJoined(f);
    // The answer to a join this tab hung up before it came.
    else this.send({ type: 'call_leave', call: f.call.id });
    this.changed(f.call.chat);
  }

  onLeft(f) {
    const s = this.session;
    if (!s || !s.joined || s.callId !== f.call) return;
    if (f.reason === 'media_failed') {
      s.rejoin();
      return;
    }
    if (f.reason === 'ended') this.endedCall = f.call;
    if (f.reason === 'left') this.endSession(null);
    else this.endSession(t(`call.left.${LEFT_REASONS.includes(f.reason) ? f.reason : 'ended'}`));
  }

  onMuted(f) {
    const s = this.session;
    if (!s || s.callId !== f.call) return;
    s.setMic(false);
    this.view?.notice(t('call.mutedBy', { name: fmt.shortName(f.by) }));
  }

  onError(f) {
    const s = this.session;
    // The server kept the microphone off: a lock this page had not heard of yet.
    if (f.code === 'call_mics_locked' && s?.joined) {
      s.setMic(false);
      this.view?.notice(errorText(f));
      return;
    }
    announce(errorText(f), { error: true });
    // A join (or a rejoin) the server refused: there is no call to show.
    if (this.session && !this.session.joined) this.endSession(null);
  }

  // ------------------------------------------------------------ joining and leaving

  /**
   * Joins the chat's call, or starts one of `kind`. In another call already:
   * asks first, unless the person has just said so (accepting a ringing call).
   */
  async join(chat, kind, { ask = true } = {}) {
    const cur = this.session;
    if (cur?.chat === chat) {
      this.view?.minimize(false);
      return;
    }
    if (cur) {
      const name = this.app.store.chats.get(cur.chat)?.name || '';
      if (ask && !(await confirmDialog({ title: t('call.switchTitle'), text: t('call.switchText', { name }), confirmLabel: t('call.switch') }))) return;
      this.leave();
    }
    if (!('RTCPeerConnection' in window) || !navigator.mediaDevices?.getUserMedia) {
      announce(t('call.unsupported'), { error: true });
      return;
    }
    if (this.ringing?.chat === chat) this.stopRinging();
    // A direct chat can ring before the list has it.
    if (!this.app.store.chats.has(chat)) await this.app.store.loadList().catch(() => {});
    const me = this.meIn(chat);
    if (me === undefined) {
      announce(t('call.failed'), { error: true });
      return;
    }
    // Another join began while the list loaded.
    if (this.session) return;
    const s = new CallSession({
      chat,
      me,
      kind,
      iceServers: () => this.iceServers,
      send: (frame) => this.send(frame),
      onChange: () => {
        if (s !== this.session) return;
        this.expose();
        this.view?.update();
      },
      onNotice: (text) => {
        if (s === this.session) this.view?.notice(text);
      },
      onFailed: () => {
        if (s !== this.session) return;
        this.leave();
        announce(t('call.failed'), { error: true });
      },
    });
    this.session = s;
    this.view = new CallView(this, s);
    this.mountView();
    this.view.focus();
    this.changed(chat);
    s.start();
  }

  /** Hangs up. A join still unanswered is left when its answer comes (onJoined). */
  leave() {
    const s = this.session;
    if (!s) return;
    if (s.callId !== null) this.send({ type: 'call_leave', call: s.callId });
    this.endSession(null);
  }

  /** Closes the call here: the peer, the devices, the view; `message` says why. */
  endSession(message) {
    const s = this.session;
    if (!s) return;
    this.session = null;
    this.resuming = null;
    s.close();
    const hadFocus = this.view?.el.contains(document.activeElement);
    this.view?.destroy();
    this.view = null;
    this.expose();
    if (message) announce(message);
    this.changed(s.chat);
    if (hadFocus) this.app.conv?.focusComposer();
  }

  /** A moderator's actions (the server checks `moderators`). */
  moderate(type, person) {
    const s = this.session;
    if (!s?.callId) return;
    this.send(person === undefined ? { type, call: s.callId } : { type, call: s.callId, person });
  }

  /** «Поднять руку» or lowers one's own hand. */
  hand(raised) {
    const s = this.session;
    if (s?.callId) this.send({ type: 'call_hand', call: s.callId, raised });
  }

  // ------------------------------------------------------------ the view's place

  /** The view lives in the chats' root, beside the list and the open chat, so it outlasts both. */
  mount(el) {
    this.host = el;
    this.mountView();
  }

  mountView() {
    if (this.view && this.host && this.view.el.parentNode !== this.host) this.host.append(this.view.el);
  }

  relang() {
    if (!this.session) return;
    this.view.destroy();
    this.view = new CallView(this, this.session);
    this.mountView();
  }

  // ------------------------------------------------------------ ringing

  /** A direct call ringing for somebody else rings here, once, while it rings. */
  ring(chat, call) {
    const me = this.meIn(chat);
    const rings = call.direct && call.state === 'ringing' && this.session?.chat !== chat
      && !call.participants.some((p) => p.person === me);
    if (this.ringing?.chat === chat && (!rings || this.ringing.call !== call.id)) this.stopRinging();
    if (rings && !this.ringing) this.startRinging(chat, call);
  }

  startRinging(chat, call) {
    const ring = { chat, call: call.id, close: null };
    this.ringing = ring;
    const name = fmt.shortName(call.started_by.name);
    const text = t(call.kind === 'video' ? 'call.incomingVideo' : 'call.incomingAudio', { name });
    const ava = h('span', { class: 'pm-ava pm-ava-person pm-ring-ava', 'aria-hidden': 'true' }, fmt.initialsOf(call.started_by.name));
    ava.style.setProperty('--hue', fmt.hueOf(call.started_by.person));
    openDialog({
      title: t('call.incoming'),
      submitLabel: t('call.accept'),
      cancelLabel: t('call.decline'),
      build: (body, close) => {
        ring.close = close;
        body.append(h('div', { class: 'pm-ring', 'data-testid': 'incoming-call' }, ava, h('p', { class: 'pm-ring-text' }, text)));
      },
    }).then((answer) => {
      if (this.ringing === ring) this.ringing = null;
      if (answer === true) {
        this.app.navigate(`/chat/${chat}`);
        this.join(chat, call.kind, { ask: false });
      } else if (answer === false) {
        this.send({ type: 'call_decline', call: call.id });
      }
      // Anything else: it stopped ringing by itself.
    });
    if (document.visibilityState !== 'visible' && 'Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification(t('call.incoming'), { body: text, tag: `parta-call-${call.id}`, icon: '/assets/logo.svg' });
        n.onclick = () => {
          window.focus();
          n.close();
        };
      } catch {
        // Some browsers allow notifications only from a service worker.
      }
    }
  }

  stopRinging() {
    const ring = this.ringing;
    this.ringing = null;
    ring?.close?.('gone');
  }
}

// ------------------------------------------------------------ in a conversation

/** «Аудиозвонок» and «Видеозвонок» for a conversation's header. */
export function callButtons(calls, chat) {
  return ['audio', 'video'].map((kind) => {
    const label = t(kind === 'video' ? 'call.video' : 'call.audio');
    const b = h('button', {
      type: 'button', class: 'pm-icon-btn', 'aria-label': label, title: label, 'data-testid': `call-${kind}`,
    }, svg(kind === 'video' ? CAMERA : PHONE));
    b.addEventListener('click', () => calls.join(chat, kind));
    return b;
  });
}

/** The chat list's mark of a chat with a live call. */
export function callBadge() {
  return h('span', { class: 'pm-row-flag pm-row-call', title: t('call.badge'), 'data-testid': 'call-badge' },
    svg(PHONE), h('span', { class: 'sr-only' }, t('call.badge')));
}

/** «Идёт звонок · 3 участника — Присоединиться» above a conversation with a call this tab is not in. */
export class CallBanner {
  constructor(calls, chat) {
    this.calls = calls;
    this.chat = chat;
    this.key = null;
    this.el = h('div', { class: 'pm-call-banner', hidden: true, 'data-testid': 'call-banner' });
  }

  render() {
    const call = this.calls.calls.get(this.chat);
    if (!call || this.calls.session?.chat === this.chat) {
      this.el.hidden = true;
      this.key = null;
      return;
    }
    const me = this.calls.meIn(this.chat);
    const elsewhere = call.participants.some((p) => p.person === me);
    // The server refuses their join; «Присоединиться» still asks, and its refusal says why.
    const removed = (call.removed || []).some((p) => p.person === me);
    const key = JSON.stringify([call.id, call.kind, call.participants.length, elsewhere, removed]);
    if (key === this.key) return;
    this.key = key;
    const members = plural('members', call.participants.length);
    const text = elsewhere ? t('call.elsewhere') : removed ? t('call.removedBanner', { members }) : t('call.inProgress', { members });
    const join = button(elsewhere ? t('call.moveHere') : t('call.join'), {
      kind: 'primary', onClick: () => this.calls.join(this.chat, call.kind), attrs: { class: 'btn btn-primary btn-sm pm-call-banner-join' },
    });
    this.el.replaceChildren(
      h('span', { class: 'pm-call-banner-icon', 'aria-hidden': 'true' }, svg(call.kind === 'video' ? CAMERA : PHONE)),
      h('span', { class: 'pm-call-banner-text' }, text),
      join);
    this.el.classList.toggle('is-removed', removed);
    this.el.hidden = false;
  }
}
