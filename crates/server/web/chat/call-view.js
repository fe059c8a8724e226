// @ts-check
// The call view: over the open chat (on a phone, the whole screen) — a tile
// per participant, one's own preview, the controls (microphone, camera,
// screen, devices, participants, «Завершить»), the participant list with the
// moderators' actions, and a small bar when minimized so the chats stay usable.

import { h, icon } from '../dom.js';
import { t } from '../i18n.js';
import { confirmDialog } from '../ui.js';
import { svg, MIC, MIC_OFF, CAMERA, CAMERA_OFF, SCREEN, HANG_UP, HAND } from './call-icons.js';
import * as fmt from './format.js';

const NOTICE_MS = 8000;

/** "03:12", "1:03:12". */
function clock(secs) {
  const s = Math.max(0, Math.floor(secs));
  const two = (n) => String(n).padStart(2, '0');
  const hours = Math.floor(s / 3600);
  const rest = `${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  return hours ? `${hours}:${rest}` : rest;
}

function roundButton(cls, onClick) {
  const b = h('button', { type: 'button', class: `pm-call-btn ${cls}` });
  b.addEventListener('click', onClick);
  return b;
}

/** Sets a control's name and picture (a dom.js icon's name, or call-icons paths); `off` marks it as off. */
function setButton(b, label, picture, { off = false, on = false } = {}) {
  const key = `${label}|${off}|${on}`;
  if (b.dataset.key === key) return;
  b.dataset.key = key;
  b.setAttribute('aria-label', label);
  b.title = label;
  b.classList.toggle('is-off', off);
  b.classList.toggle('is-on', on);
  b.replaceChildren(Array.isArray(picture) ? svg(picture) : icon(picture));
}

export class CallView {
  /**
   * @param {import('./call.js').CallManager} calls
   * @param {import('./call-session.js').CallSession} session
   */
  constructor(calls, session) {
    this.calls = calls;
    this.s = session;
    /** tile key → {el, video, nameEl, ava} */
    this.tiles = new Map();
    /** 'people' | 'devices' | null */
    this.panel = null;
    this.minimized = false;
    this.build();
    this.clock = setInterval(() => this.renderStatus(), 1000);
    this.onDevices = () => {
      if (this.panel === 'devices') this.renderDevices();
    };
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDevices);
    this.update();
  }

  get summary() {
    return this.calls.app.store.chats.get(this.s.chat);
  }

  build() {
    const name = this.summary?.name || '';
    const titleId = `pm-call-title-${this.s.chat}`;
    this.titleEl = h('h2', { id: titleId, class: 'pm-call-title', tabindex: '-1' }, name);
    this.statusEl = h('span', { class: 'pm-call-status', 'data-testid': 'call-status' });
    const minimize = h('button', {
      type: 'button', class: 'pm-icon-btn pm-call-min', 'aria-label': t('call.minimize'), title: t('call.minimize'),
    }, icon('down'));
    minimize.addEventListener('click', () => this.minimize(true));
    const head = h('header', { class: 'pm-call-head' },
      h('div', { class: 'pm-call-heading' }, this.titleEl, this.statusEl), minimize);

    this.stage = h('div', { class: 'pm-call-stage', 'data-testid': 'call-stage' });
    this.panelTitle = h('h3', { class: 'pm-call-panel-title', tabindex: '-1' });
    const closePanel = h('button', {
      type: 'button', class: 'pm-icon-btn', 'aria-label': t('common.close'), title: t('common.close'),
    }, icon('x'));
    closePanel.addEventListener('click', () => this.openPanel(null));
    this.panelBody = h('div', { class: 'pm-call-panel-body' });
    this.panelEl = h('aside', { class: 'pm-call-panel', hidden: true, 'data-testid': 'call-panel' },
      h('div', { class: 'pm-call-panel-head' }, this.panelTitle, closePanel), this.panelBody);
    this.panelEl.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.openPanel(null);
      }
    });
    this.noticeEl = h('p', { class: 'pm-call-notice', role: 'status', 'data-testid': 'call-notice' });

    const s = this.s;
    this.micBtn = roundButton('pm-call-mic', () => {
      if (!s.mic && this.micLocked()) this.notice(t('call.micsLockedNotice'));
      else s.setMic(!s.mic);
    });
    this.camBtn = roundButton('pm-call-cam', () => s.setCam(!s.cam));
    // Phones cannot share their screen from a browser.
    this.shareBtn = navigator.mediaDevices?.getDisplayMedia ? roundButton('pm-call-share', () => s.setScreen(!s.screen)) : null;
    // A direct call has nobody to raise a hand to.
    this.handBtn = this.summary?.kind === 'direct' ? null : roundButton('pm-call-hand', () => this.calls.hand(!this.handRaised()));
    this.devicesBtn = roundButton('pm-call-devices', () => this.openPanel(this.panel === 'devices' ? null : 'devices'));
    this.peopleBtn = roundButton('pm-call-people', () => this.openPanel(this.panel === 'people' ? null : 'people'));
    this.leaveBtn = roundButton('pm-call-leave', () => this.calls.leave());
    setButton(this.devicesBtn, t('call.devices'), 'sliders');
    setButton(this.peopleBtn, t('call.people'), 'users');
    setButton(this.leaveBtn, t('call.leave'), HANG_UP);
    for (const b of [this.devicesBtn, this.peopleBtn]) b.setAttribute('aria-expanded', 'false');
    const controls = h('div', { class: 'pm-call-controls', role: 'group', 'aria-label': t('call.region', { name }) },
      this.micBtn, this.camBtn, this.shareBtn, this.handBtn, this.devicesBtn, this.peopleBtn, this.leaveBtn);

    this.full = h('div', { class: 'pm-call-full' },
      head, h('div', { class: 'pm-call-body' }, this.stage, this.panelEl), this.noticeEl, controls);

    // Minimized: the chat's name and the time, back to the call, or hang up.
    this.pillStatus = h('span', { class: 'pm-call-pill-status' });
    const restore = h('button', { type: 'button', class: 'pm-call-pill-main', 'aria-label': t('call.restore'), title: t('call.restore') },
      h('span', { class: 'pm-call-pill-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'pm-call-pill-name' }, name), this.pillStatus);
    restore.addEventListener('click', () => this.minimize(false));
    this.pillLeave = roundButton('pm-call-leave pm-call-btn-sm', () => this.calls.leave());
    setButton(this.pillLeave, t('call.leave'), HANG_UP);
    this.pill = h('div', { class: 'pm-call-pill', hidden: true }, restore, this.pillLeave);

    this.el = h('section', {
      class: 'pm-call', 'aria-label': t('call.region', { name }), 'data-testid': 'call-view', 'data-chat': this.s.chat,
    }, this.full, this.pill);
  }

  destroy() {
    clearInterval(this.clock);
    clearTimeout(this.noticeTimer);
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDevices);
    for (const tile of this.tiles.values()) tile.video.srcObject = null;
    this.el.remove();
  }

  focus() {
    this.titleEl.focus({ preventScroll: true });
  }

  minimize(on) {
    if (this.minimized === on) return;
    this.minimized = on;
    this.full.hidden = on;
    this.pill.hidden = !on;
    this.el.classList.toggle('is-min', on);
    if (on) this.pill.querySelector('button').focus();
    else this.focus();
  }

  notice(text) {
    this.noticeEl.textContent = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.noticeEl.textContent = '';
    }, NOTICE_MS);
  }

  /** Whether one's own hand is up. */
  handRaised() {
    return Boolean(this.s.call?.hands?.includes(this.s.me));
  }

  /** The moderator locked the microphones and has not given this person the floor. */
  micLocked() {
    const call = this.s.call;
    return Boolean(call?.mics_locked && !call.moderators?.includes(this.s.me) && call.floor !== this.s.me);
  }

  /** Tells a participant when the lock or the floor changes for them. */
  noticeLock() {
    const call = this.s.call;
    const now = { locked: Boolean(call?.mics_locked), floor: call?.floor ?? null };
    const before = this.lock || now;
    this.lock = now;
    if (!call || call.moderators?.includes(this.s.me)) return;
    if (now.floor === this.s.me && before.floor !== this.s.me) this.notice(t('call.floorYou'));
    else if (now.locked && !before.locked) this.notice(t('call.lockedNotice'));
    else if (!now.locked && before.locked) this.notice(t('call.unlockedNotice'));
  }

  /** A moderator is told of each hand raised (the queue is in the participant list). */
  noticeHands() {
    const hands = this.s.call?.hands || [];
    const before = this.hands || hands;
    this.hands = hands;
    if (!this.s.call?.moderators?.includes(this.s.me)) return;
    const fresh = hands.filter((p) => p !== this.s.me && !before.includes(p));
    const names = fresh.map((p) => fmt.shortName(this.s.call.participants.find((x) => x.person === p)?.name || ''));
    if (names.length) this.notice(t('call.handRaisedBy', { name: names.join(', ') }));
  }

  update() {
    this.noticeHands();
    this.noticeLock();
    // Locked out by a moderator (`call_mute_all`): the microphone goes off here too.
    if (this.s.mic && this.micLocked()) this.s.setMic(false);
    this.renderStatus();
    this.renderControls();
    this.renderTiles();
    if (this.panel === 'people') this.renderPeople();
  }

  renderStatus() {
    const s = this.s;
    const status = s.status;
    const text = status === 'active' ? clock(Date.now() / 1000 - s.call.started_at) : t(`call.${status}`);
    if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
    if (this.pillStatus.textContent !== text) this.pillStatus.textContent = text;
    this.el.dataset.status = status;
  }

  renderControls() {
    const s = this.s;
    const locked = !s.mic && this.micLocked();
    const micLabel = s.mic ? t('call.micOff') : locked ? t('call.micLocked') : t('call.micOn');
    setButton(this.micBtn, micLabel, s.mic ? MIC : MIC_OFF, { off: !s.mic });
    this.micBtn.setAttribute('aria-disabled', String(locked));
    setButton(this.camBtn, s.cam ? t('call.camOff') : t('call.camOn'), s.cam ? CAMERA : CAMERA_OFF, { off: !s.cam });
    if (this.shareBtn) setButton(this.shareBtn, s.screen ? t('call.shareOff') : t('call.shareOn'), SCREEN, { on: Boolean(s.screen) });
    if (this.handBtn) {
      const raised = this.handRaised();
      setButton(this.handBtn, raised ? t('call.handDown') : t('call.handUp'), HAND, { on: raised });
      this.handBtn.setAttribute('aria-pressed', String(raised));
    }
    // The number of raised hands, on the participant list's button.
    const hands = s.call?.hands?.length || 0;
    this.peopleBtn.dataset.hands = hands ? String(hands) : '';
  }

  // ------------------------------------------------------------ tiles

  /** What the stage shows: everyone else in the call, then oneself. */
  tileItems() {
    const s = this.s;
    const others = (s.call?.participants || []).filter((p) => p.person !== s.me);
    const hands = s.call?.hands || [];
    const presenter = s.call?.presenter ?? null;
    const items = others.map((p) => ({
      key: `p${p.person}`, person: p.person, name: fmt.shortName(p.name), stream: s.remote.get(p.person) || null,
      video: p.video || p.screen, audio: p.audio, reconnecting: p.reconnecting, hand: hands.indexOf(p.person) + 1,
      presenter: p.person === presenter,
    }));
    if (!items.length && this.summary?.kind === 'direct') {
      // Ringing, or the other person is on their way: their picture waits.
      items.push({ key: 'peer', person: null, name: this.summary.name, stream: null, video: false, audio: true, waiting: true });
    }
    const own = s.outgoingVideo();
    items.push({
      key: 'me', person: s.me, name: t('call.you'), self: true, track: own, video: Boolean(own), audio: Boolean(s.mic), hand: hands.indexOf(s.me) + 1,
      presenter: s.me === presenter,
    });
    // The pinned presenter leads: the main view, the others a strip after it.
    return [...items.filter((it) => it.presenter), ...items.filter((it) => !it.presenter)];
  }

  renderTiles() {
    const items = this.tileItems();
    const keep = new Set();
    let prev = null;
    for (const it of items) {
      keep.add(it.key);
      let tile = this.tiles.get(it.key);
      if (!tile) {
        tile = this.tileEl(it);
        this.tiles.set(it.key, tile);
      }
      this.fillTile(tile, it);
      if (prev ? prev.nextSibling !== tile.el : this.stage.firstChild !== tile.el) {
        if (prev) prev.after(tile.el);
        else this.stage.prepend(tile.el);
      }
      prev = tile.el;
    }
    for (const [key, tile] of this.tiles) {
      if (keep.has(key)) continue;
      tile.video.srcObject = null;
      tile.el.remove();
      this.tiles.delete(key);
    }
    // A presenter fills the stage above the others; else one other person
    // fills it and one's own picture floats in a corner.
    const presenting = items.some((it) => it.presenter);
    this.stage.dataset.layout = presenting ? 'presenter' : items.length === 2 ? 'duo' : 'grid';
    if (presenting) delete this.stage.dataset.count;
    else this.stage.dataset.count = String(items.length);
  }

  tileEl(it) {
    const video = h('video', { class: 'pm-tile-video', autoplay: true, playsinline: true });
    // A picture only: the voices play from the session's voice slots.
    video.muted = true;
    const ava = h('span', { class: 'pm-tile-ava', 'aria-hidden': 'true' }, fmt.initialsOf(it.self ? this.ownName() : it.name));
    if (it.person !== null) ava.style.setProperty('--hue', fmt.hueOf(it.person));
    const nameEl = h('span', { class: 'pm-tile-name' }, it.name);
    const stateEl = h('span', { class: 'sr-only' });
    const micEl = h('span', { class: 'pm-tile-mic', 'aria-hidden': 'true' }, svg(MIC_OFF));
    const handEl = h('span', { class: 'pm-tile-hand', 'aria-hidden': 'true' });
    const el = h('div', {
      class: ['pm-tile', it.self && 'is-self', it.waiting && 'is-waiting'], 'data-testid': 'call-tile', 'data-person': it.person ?? '',
    }, video, ava, handEl, h('div', { class: 'pm-tile-label' }, h('span', { class: 'pm-tile-pin', 'aria-hidden': 'true' }, icon('pin')), micEl, nameEl, stateEl));
    return { el, video, nameEl, stateEl, handEl };
  }

  /** The initials of one's own tile: the name one has in this chat's school. */
  ownName() {
    const me = this.calls.app.me;
    return me.profile ? `${me.profile.last_name} ${me.profile.first_name}` : `${me.account.last_name} ${me.account.first_name}`;
  }

  fillTile(tile, it) {
    const stream = it.self ? this.ownStream(tile, it.track) : it.stream;
    if (tile.video.srcObject !== stream) {
      tile.video.srcObject = stream;
      if (stream) tile.video.play().catch(() => {});
    }
    const showsVideo = Boolean(it.video && stream && stream.getVideoTracks().length);
    tile.el.classList.toggle('has-video', showsVideo);
    tile.el.classList.toggle('is-muted', !it.audio);
    tile.el.classList.toggle('is-speaking', it.person !== null && it.person === this.s.speaker && it.audio);
    tile.el.classList.toggle('is-reconnecting', Boolean(it.reconnecting));
    tile.el.dataset.audio = String(it.audio);
    tile.el.dataset.video = String(showsVideo);
    tile.el.classList.toggle('is-presenter', Boolean(it.presenter));
    tile.el.classList.toggle('has-hand', Boolean(it.hand));
    tile.el.dataset.hand = String(it.hand || '');
    if (it.hand && tile.handEl.dataset.n !== String(it.hand)) {
      tile.handEl.dataset.n = String(it.hand);
      tile.handEl.replaceChildren(svg(HAND), h('span', null, String(it.hand)));
    }
    const states = [
      it.presenter && t('call.isPresenter'), !it.audio && t('call.micIsOff'), it.hand && t('call.handIsUp'), it.reconnecting && t('call.isReconnecting'), it.waiting && t('call.ringing'),
    ].filter(Boolean);
    tile.stateEl.textContent = states.length ? `, ${states.join(', ')}` : '';
  }

  /** One's own preview: whatever the video sender carries now. */
  ownStream(tile, track) {
    const cur = tile.video.srcObject;
    if (!track) return null;
    if (cur && cur.getVideoTracks()[0] === track) return cur;
    return new MediaStream([track]);
  }

  // ------------------------------------------------------------ panels

  openPanel(which) {
    const opener = which === null ? (this.panel === 'devices' ? this.devicesBtn : this.peopleBtn) : null;
    this.panel = which;
    this.panelEl.hidden = which === null;
    this.el.classList.toggle('has-panel', which !== null);
    this.devicesBtn.setAttribute('aria-expanded', String(which === 'devices'));
    this.peopleBtn.setAttribute('aria-expanded', String(which === 'people'));
    this.peopleKey = null;
    if (which === 'people') {
      this.panelTitle.textContent = t('call.people');
      this.renderPeople();
    } else if (which === 'devices') {
      this.panelTitle.textContent = t('call.devices');
      this.panelBody.replaceChildren();
      this.renderDevices();
    }
    if (which) this.panelTitle.focus();
    else opener?.focus();
  }

  renderPeople() {
    const s = this.s;
    const call = s.call;
    const people = call?.participants || [];
    const moderator = Boolean(call?.moderators?.includes(s.me));
    const removed = moderator ? call?.removed || [] : [];
    const hands = call?.hands || [];
    const lock = [Boolean(call?.mics_locked), call?.floor ?? null];
    const presenter = call?.presenter ?? null;
    const key = JSON.stringify([people, moderator, s.speaker, removed, hands, lock, presenter]);
    if (key === this.peopleKey) return;
    this.peopleKey = key;
    // The list is built again: the focus goes back to the same button in it.
    const focused = (/** @type {HTMLElement | null | undefined} */ (document.activeElement?.closest?.('[data-focus]')))?.dataset.focus;
    const rows = people.map((p) => this.personRow(p, moderator, hands.includes(p.person), p.person === presenter));
    const end = moderator ? h('button', { type: 'button', class: 'btn btn-danger btn-sm pm-call-end', 'data-focus': 'end' },
      svg(HANG_UP), h('span', { class: 'btn-label' }, t('call.endForAll'))) : null;
    end?.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: t('call.endTitle'), text: t('call.endText'), confirmLabel: t('call.endForAll'), danger: true });
      if (ok) this.calls.moderate('call_end');
    });
    this.panelBody.replaceChildren(...[end].filter(Boolean), ...this.micsSection(call, people, moderator), ...this.handsList(hands, people, moderator),
      h('ul', { class: 'pm-cp-list', 'data-testid': 'call-people' }, rows), ...this.removedList(removed));
    if (focused) (/** @type {HTMLElement | null | undefined} */ (this.panelBody.querySelector(`[data-focus="${focused}"]`)))?.focus();
  }

  personRow(p, moderator, hand, presenter) {
    const s = this.s;
    const me = p.person === s.me;
    const ava = h('span', { class: 'pm-ava pm-ava-person', 'aria-hidden': 'true' }, fmt.initialsOf(p.name));
    ava.style.setProperty('--hue', fmt.hueOf(p.person));
    const states = [
      p.audio ? t('call.micIsOn') : t('call.micIsOff'),
      p.screen ? t('call.sharing') : p.video ? t('call.camIsOn') : t('call.camIsOff'),
    ];
    if (presenter) states.push(t('call.isPresenter'));
    if (hand) states.push(t('call.handIsUp'));
    if (p.reconnecting) states.push(t('call.isReconnecting'));
    if (p.person === s.speaker && p.audio) states.push(t('call.speaking'));
    const icons = h('span', { class: 'pm-cp-icons', 'aria-hidden': 'true' },
      h('span', { class: ['pm-cp-icon', !p.audio && 'is-off'] }, svg(p.audio ? MIC : MIC_OFF)),
      h('span', { class: ['pm-cp-icon', !(p.video || p.screen) && 'is-off'] }, svg(p.screen ? SCREEN : p.video ? CAMERA : CAMERA_OFF)));
    const li = h('li', {
      class: ['pm-cp', p.person === s.speaker && p.audio && 'is-speaking'], 'data-person': p.person,
      'data-audio': String(p.audio), 'data-video': String(p.video), 'data-screen': String(p.screen), 'data-testid': 'call-person',
    },
    ava,
    h('div', { class: 'pm-cp-text' },
      h('p', { class: 'pm-cp-name' }, h('span', null, p.name), me ? h('span', { class: 'pm-member-me' }, ` (${t('chat.itsYou')})`) : null),
      h('p', { class: 'pm-cp-state' }, states.join(', '))),
    icons);
    if (moderator) {
      const actions = h('div', { class: 'pm-cp-actions' });
      // Anyone's picture may be the main view, the moderator's own too.
      const pin = h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm',
        'aria-label': t(presenter ? 'call.unpinOne' : 'call.pinOne', { name: p.name }), 'data-focus': `pin-${p.person}`,
      }, icon('pin'), h('span', { class: 'btn-label' }, t(presenter ? 'call.unpin' : 'call.pin')));
      pin.addEventListener('click', () => this.calls.moderate('call_pin', presenter ? null : p.person));
      actions.append(pin);
      li.querySelector('.pm-cp-text').append(actions);
    }
    if (moderator && !me) {
      const actions = li.querySelector('.pm-cp-actions');
      if (p.audio) {
        const mute = h('button', {
          type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': t('call.muteOne', { name: p.name }), 'data-focus': `mute-${p.person}`,
        }, svg(MIC_OFF), h('span', { class: 'btn-label' }, t('call.mute')));
        mute.addEventListener('click', () => this.calls.moderate('call_mute', p.person));
        actions.append(mute);
      }
      const remove = h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm pm-cp-remove', 'aria-label': t('call.removeOne', { name: p.name }), 'data-focus': `remove-${p.person}`,
      }, icon('x'), h('span', { class: 'btn-label' }, t('call.remove')));
      remove.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: t('call.removeTitle', { name: p.name }), text: t('call.removeText'), confirmLabel: t('call.remove'), danger: true,
        });
        if (ok) this.calls.moderate('call_remove', p.person);
      });
      actions.append(remove);
    }
    return li;
  }

  /**
   * «Выключить микрофоны у всех» for a moderator, or, once locked, who has
   * the floor, «Забрать слово» and «Разрешить включать микрофоны»; the others
   * read that the microphones are locked.
   */
  micsSection(call, people, moderator) {
    const locked = Boolean(call?.mics_locked);
    const action = (label, focus, onClick) => {
      const b = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-focus': focus }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    if (!moderator) return locked ? [h('p', { class: 'pm-cp-lock', 'data-testid': 'call-lock' }, t('call.lockedNotice'))] : [];
    if (!locked) {
      const muteAll = action(t('call.muteAll'), 'mute-all', () => this.calls.moderate('call_mute_all'));
      muteAll.prepend(svg(MIC_OFF));
      return [h('div', { class: 'pm-cp-lock', 'data-testid': 'call-lock' }, muteAll)];
    }
    const holder = people.find((p) => p.person === call.floor);
    const floor = holder
      ? [h('p', null, t('call.floorOf', { name: holder.name })), action(t('call.takeFloor'), 'take-floor', () => this.calls.moderate('call_floor', null))]
      : [];
    return [h('div', { class: 'pm-cp-lock', 'data-testid': 'call-lock' },
      h('p', null, t('call.lockedModerator')), ...floor,
      action(t('call.unlockMics'), 'unlock', () => this.calls.moderate('call_unlock_mics')))];
  }

  /** The raised hands in the order raised; a moderator lowers any of them. */
  handsList(hands, people, moderator) {
    if (!hands.length) return [];
    const rows = hands.map((person, i) => {
      const name = people.find((p) => p.person === person)?.name || '';
      const li = h('li', { class: 'pm-cp pm-cp-hand', 'data-person': person, 'data-testid': 'call-hand' },
        h('span', { class: 'pm-cp-hand-n', 'aria-hidden': 'true' }, String(i + 1)),
        h('p', { class: 'pm-cp-name' }, name));
      if (moderator) {
        const lower = h('button', {
          type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': t('call.lowerOne', { name }), 'data-focus': `lower-${person}`,
        }, t('call.lower'));
        lower.addEventListener('click', () => this.calls.moderate('call_lower_hand', person));
        const floor = h('button', {
          type: 'button', class: 'btn btn-primary btn-sm', 'aria-label': t('call.giveFloorOne', { name }), 'data-focus': `floor-${person}`,
        }, t('call.giveFloor'));
        floor.addEventListener('click', () => this.calls.moderate('call_floor', person));
        li.append(h('div', { class: 'pm-cp-actions' }, floor, lower));
      }
      return li;
    });
    return [h('h4', { class: 'pm-cp-heading' }, t('call.hands')), h('ol', { class: 'pm-cp-list', 'data-testid': 'call-hands' }, rows)];
  }

  /** The moderator's list of those removed from the call, each with «Впустить снова». */
  removedList(removed) {
    if (!removed.length) return [];
    const rows = removed.map((p) => {
      const back = h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': t('call.letBackOne', { name: p.name }), 'data-focus': `back-${p.person}`,
      }, t('call.letBack'));
      back.addEventListener('click', () => this.calls.moderate('call_let_back', p.person));
      return h('li', { class: 'pm-cp pm-cp-removed', 'data-person': p.person, 'data-testid': 'call-removed-person' },
        h('p', { class: 'pm-cp-name' }, p.name), back);
    });
    return [h('h4', { class: 'pm-cp-heading' }, t('call.removedList')), h('ul', { class: 'pm-cp-list', 'data-testid': 'call-removed' }, rows)];
  }

  async renderDevices() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch {
      // Shown empty; the defaults still work.
    }
    if (this.panel !== 'devices') return;
    const s = this.s;
    const select = (kind, label, current, onPick) => {
      const list = devices.filter((d) => d.kind === kind && d.deviceId);
      const el = h('select', { class: 'input', 'data-testid': `call-${kind}` },
        list.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || t('call.deviceN', { n: i + 1 }))));
      el.addEventListener('change', () => onPick(el.value));
      const id = `pm-call-${kind}`;
      el.id = id;
      return h('div', { class: 'field' }, h('label', { class: 'field-label', for: id }, label), el);
    };
    const focused = document.activeElement?.id;
    this.panelBody.replaceChildren(
      select('audioinput', t('call.microphone'), s.deviceOf('audio'), (id) => s.useMic(id)),
      select('videoinput', t('call.camera'), s.deviceOf('video'), (id) => s.useCam(id)));
    if (focused) document.getElementById(focused)?.focus();
  }
}
