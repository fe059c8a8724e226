// @ts-check
// The call this tab is in (docs/protocol.md, «Calls»): one peer connection to
// the SFU with two `sendonly` transceivers made before the first offer, the
// server's renegotiations answered in order, the microphone, camera and
// screen swapped in and out with replaceTrack (never a renegotiation from
// here), a fresh offer whenever the connection is lost, the others' voices
// played from the SFU's voice slots, and who the server says is speaking.

import { t } from '../i18n.js';

/** The MediaStream id of the SFU's voice slots: the others' audio, whoever speaks now. */
const VOICES_STREAM = 'voices';
/** `disconnected` often heals by itself; after this long it is a new offer. */
const DISCONNECTED_MS = 5000;
/** SDP the browser refuses this many times in a row: give up instead of looping. */
const MAX_SDP_FAILURES = 3;
/** A camera picture an SFU without simulcast forwards to everyone as it is. */
const CAMERA = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

export class CallSession {
  /**
   * @param {object} o
   * @param {number} o.chat
   * @param {number} o.me the user's person id in the chat
   * @param {'audio'|'video'} o.kind what to start (or join) as: a video call turns the camera on
   * @param {() => Array<object>} o.iceServers from the latest `ready`
   * @param {(frame: object) => boolean} o.send a frame to the socket; false when it is down
   * @param {() => void} o.onChange anything shown changed
   * @param {(text: string) => void} o.onNotice a short message for the call view
   * @param {() => void} o.onFailed the call cannot go on
   */
  constructor({ chat, me, kind, iceServers, send, onChange, onNotice, onFailed }) {
    this.chat = chat;
    this.me = me;
    this.kind = kind;
    this.iceServers = iceServers;
    this.send = send;
    this.onChange = onChange;
    this.onNotice = onNotice;
    this.onFailed = onFailed;
    /** The latest Call (`call_joined`, `call_state`), null until joined. */
    this.call = null;
    this.pc = null;
    this.audioTx = null;
    this.videoTx = null;
    /** The current peer connection has its answer: offers and media frames may flow. */
    this.joined = false;
    /** `call_join`s sent and not answered yet: only the answer to the last one fits the peer. */
    this.joinsInFlight = 0;
    this.mic = null;
    this.cam = null;
    this.screen = null;
    /** Chosen devices; '' is the browser's default. */
    this.micId = '';
    this.camId = '';
    /** person → the MediaStream of their picture the SFU forwards (msid `p<person>`). */
    this.remote = new Map();
    /**
     * A voice slot's track id → the `<audio>` playing it, for the life of the
     * peer connection. A slot carries whoever speaks; it is never in the page,
     * so nothing on the screen pauses it.
     */
    this.voices = new Map();
    /** The person speaking loudest now as the server says (`call_speaker`), or null. */
    this.speaker = null;
    this.sdpFailures = 0;
    this.closed = false;
    // SDP work and track swaps each run one at a time, in order.
    this.sdpQueue = Promise.resolve();
    this.mediaQueue = Promise.resolve();
  }

  get callId() {
    return this.call?.id ?? null;
  }

  /** connecting | ringing | reconnecting | active */
  get status() {
    if (!this.joined || !this.call) return 'connecting';
    if (this.call.state === 'ringing') return 'ringing';
    const st = this.pc?.connectionState;
    if (st === 'disconnected' || st === 'failed') return 'reconnecting';
    return 'active';
  }

  async start() {
    const mic = await this.openDevice('audio', this.micId);
    if (!mic) this.onNotice(t('call.noMic'));
    const cam = this.kind === 'video' ? await this.openDevice('video', this.camId) : null;
    if (this.kind === 'video' && !cam) this.onNotice(t('call.noCam'));
    if (this.closed) {
      mic?.stop();
      cam?.stop();
      return;
    }
    this.mic = mic;
    this.cam = cam;
    await this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.disconnectedTimer);
    this.dropPeer();
    this.speaker = null;
    for (const track of [this.mic, this.cam, this.screen]) track?.stop();
    this.mic = null;
    this.cam = null;
    this.screen = null;
  }

  // ------------------------------------------------------------ the peer connection

  /** A new peer connection and a fresh offer in `call_join`: the first join and every rejoin. */
  async connect() {
    if (this.closed) return;
    this.dropPeer();
    clearTimeout(this.disconnectedTimer);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers() });
    this.pc = pc;
    this.audioTx = pc.addTransceiver(this.mic || 'audio', { direction: 'sendonly' });
    this.videoTx = pc.addTransceiver(this.outgoingVideo() || 'video', { direction: 'sendonly' });
    pc.addEventListener('track', (e) => {
      if (pc === this.pc) this.onTrack(e);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.pc) this.onConnectionState();
    });
    this.onChange();
    try {
      await pc.setLocalDescription(await pc.createOffer());
    } catch (e) {
      if (pc === this.pc) this.sdpFailed(e);
      return;
    }
    if (pc !== this.pc) return;
    this.sendJoin();
  }

  /** Sends the current offer; without a socket it goes again after the next `ready`. */
  sendJoin() {
    const sdp = this.pc?.localDescription?.sdp;
    if (!sdp || this.joined) return;
    if (this.send({ type: 'call_join', chat: this.chat, kind: this.kind, sdp })) this.joinsInFlight += 1;
  }

  /**
   * The socket came back: joins sent into the old one will never be
   * answered, and the speaker it said may have stopped meanwhile.
   */
  socketReady() {
    this.joinsInFlight = 0;
    this.speaker = null;
    this.onChange();
  }

  rejoin() {
    this.connect();
  }

  dropPeer() {
    this.pc?.close();
    this.pc = null;
    this.audioTx = null;
    this.videoTx = null;
    this.joined = false;
    this.remote.clear();
    for (const audio of this.voices.values()) {
      audio.pause();
      audio.srcObject = null;
    }
    this.voices.clear();
  }

  onJoined(f) {
    if (this.joinsInFlight === 0 || !this.pc) return;
    this.joinsInFlight -= 1;
    if (this.joinsInFlight > 0) return;
    const pc = this.pc;
    this.call = f.call;
    this.joined = true;
    this.queueSdp(() => pc.setRemoteDescription({ type: 'answer', sdp: f.sdp }));
    // The server learns at once what this peer sends (muted, camera off…).
    this.sendMedia();
    this.onChange();
  }

  onOffer(f) {
    // An offer for the peer a newer `call_join` replaces: the server offers
    // the new one again after answering it.
    if (!this.joined || f.call !== this.callId) return;
    const pc = this.pc;
    this.queueSdp(async () => {
      await pc.setRemoteDescription({ type: 'offer', sdp: f.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      if (pc === this.pc) this.send({ type: 'call_answer', call: f.call, sdp: pc.localDescription.sdp });
    });
  }

  queueSdp(work) {
    const pc = this.pc;
    this.sdpQueue = this.sdpQueue.then(async () => {
      if (pc !== this.pc) return;
      try {
        await work();
      } catch (e) {
        if (pc === this.pc) this.sdpFailed(e);
      }
    });
  }

  sdpFailed(e) {
    console.warn('call: SDP refused', e);
    this.sdpFailures += 1;
    if (this.sdpFailures >= MAX_SDP_FAILURES) this.onFailed();
    else this.rejoin();
  }

  onConnectionState() {
    const state = this.pc.connectionState;
    clearTimeout(this.disconnectedTimer);
    if (state === 'connected') this.sdpFailures = 0;
    else if (state === 'failed') this.rejoin();
    else if (state === 'disconnected') {
      const pc = this.pc;
      this.disconnectedTimer = setTimeout(() => {
        if (pc === this.pc && pc.connectionState === 'disconnected') this.rejoin();
      }, DISCONNECTED_MS);
    }
    this.onChange();
  }

  onTrack(e) {
    const stream = e.streams[0];
    if (stream?.id === VOICES_STREAM) {
      this.playVoice(e.track);
      return;
    }
    const m = /^p(\d+)$/.exec(stream?.id || '');
    if (!m) return;
    const person = Number(m[1]);
    if (this.remote.get(person) !== stream) {
      this.remote.set(person, stream);
      // The SFU stops a forwarded track by renegotiation: the stream loses it.
      stream.addEventListener('removetrack', () => this.onChange());
      stream.addEventListener('addtrack', () => this.onChange());
    }
    this.onChange();
  }

  /**
   * A voice slot, played in a stream of its own: an `<audio>` is not sure to
   * mix several audio tracks of one stream. A slot the server renegotiates
   * comes back with the same track and keeps its element.
   */
  playVoice(track) {
    if (this.voices.has(track.id)) return;
    const audio = new Audio();
    audio.autoplay = true;
    audio.srcObject = new MediaStream([track]);
    this.voices.set(track.id, audio);
    // Joining took a click, which lets the page play sound; a slot dropped before it starts rejects here.
    audio.play().catch(() => {});
  }

  /** `call_speaker`: who speaks loudest now, for everyone in the call. */
  onSpeaker(f) {
    if (f.call !== this.callId) return;
    const speaker = f.person ?? null;
    if (speaker === this.speaker) return;
    this.speaker = speaker;
    this.onChange();
  }

  /** A newer Call for this session's call (`call_state`). */
  update(call) {
    this.call = call;
    this.onChange();
  }

  // ------------------------------------------------------------ what this tab sends

  outgoingVideo() {
    return this.screen || this.cam;
  }

  /** `call_media`: what the server forwards and the others see in the participant list. */
  sendMedia() {
    if (!this.joined) return;
    this.send({
      type: 'call_media', call: this.callId, audio: Boolean(this.mic), video: Boolean(this.cam) && !this.screen, screen: Boolean(this.screen),
    });
  }

  /** A track from a microphone or a camera, or null when there is none or it is not allowed. */
  async openDevice(kind, deviceId) {
    const pick = deviceId ? { deviceId: { exact: deviceId } } : {};
    const constraints = kind === 'audio' ? { audio: deviceId ? pick : true } : { video: { ...CAMERA, ...pick } };
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return stream.getTracks()[0] || null;
    } catch {
      return null;
    }
  }

  /** Runs a change of the local media after the ones before it, then tells the server and the view. */
  queueMedia(work) {
    this.mediaQueue = this.mediaQueue.then(async () => {
      if (this.closed) return;
      await work();
      if (this.closed) return;
      this.sendMedia();
      this.onChange();
    });
    return this.mediaQueue;
  }

  async replace(tx, track) {
    try {
      await tx?.sender.replaceTrack(track);
    } catch {
      // The peer closed meanwhile; the next one starts with the current tracks.
    }
  }

  /**
   * Opens (or stops) the device behind `field` ('mic' or 'cam'); true when
   * the track changed. Off means no track at all, not a silent or black one.
   */
  async switchDevice(field, on) {
    if (on === Boolean(this[field])) return false;
    if (!on) {
      this[field].stop();
      this[field] = null;
      return true;
    }
    const audio = field === 'mic';
    const track = await this.openDevice(audio ? 'audio' : 'video', audio ? this.micId : this.camId);
    if (!track) {
      this.onNotice(t(audio ? 'call.noMic' : 'call.noCam'));
      return false;
    }
    if (this.closed) {
      track.stop();
      return false;
    }
    this[field] = track;
    return true;
  }

  setMic(on) {
    return this.queueMedia(async () => {
      if (await this.switchDevice('mic', on)) await this.replace(this.audioTx, this.mic);
    });
  }

  setCam(on) {
    return this.queueMedia(async () => {
      // While the screen is shown the camera waits for it to end.
      if ((await this.switchDevice('cam', on)) && !this.screen) await this.replace(this.videoTx, this.cam);
    });
  }

  setScreen(on) {
    return this.queueMedia(async () => {
      if (on === Boolean(this.screen)) return;
      if (on) {
        let stream;
        try {
          stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
        } catch {
          return; // The person chose nothing.
        }
        const track = stream.getVideoTracks()[0];
        if (this.closed) {
          track.stop();
          return;
        }
        // «Прекратить доступ» in the browser's own bar ends it too.
        track.addEventListener('ended', () => {
          if (this.screen === track) this.setScreen(false);
        });
        this.screen = track;
      } else {
        this.screen.stop();
        this.screen = null;
      }
      await this.replace(this.videoTx, this.outgoingVideo());
    });
  }

  /** Another microphone: the new track replaces the old one in place. */
  useMic(deviceId) {
    return this.queueMedia(async () => {
      this.micId = deviceId;
      if (!this.mic) return;
      const track = await this.openDevice('audio', deviceId);
      if (!track) {
        this.onNotice(t('call.noMic'));
        return;
      }
      const old = this.mic;
      this.mic = track;
      await this.replace(this.audioTx, track);
      old.stop();
    });
  }

  useCam(deviceId) {
    return this.queueMedia(async () => {
      this.camId = deviceId;
      if (!this.cam) return;
      const track = await this.openDevice('video', deviceId);
      if (!track) {
        this.onNotice(t('call.noCam'));
        return;
      }
      const old = this.cam;
      this.cam = track;
      if (!this.screen) await this.replace(this.videoTx, track);
      old.stop();
    });
  }

  /** The device a track comes from, for the device selects. */
  deviceOf(kind) {
    const track = kind === 'audio' ? this.mic : this.cam;
    return track?.getSettings().deviceId || (kind === 'audio' ? this.micId : this.camId);
  }
}
