// @ts-check
// The one WebSocket of a messenger tab (docs/protocol.md): `hello` with the
// per-chat positions, keep-alive pings, reconnecting with backoff, and the
// connection state the interface shows («Соединение…», «Нет сети»).

const BACKOFF_MS = [1000, 2000, 5000, 10000];
const PING_EVERY_MS = 25_000;
/** No frame at all for this long: the connection is dead even if the socket does not know yet. */
const SILENCE_MS = 65_000;
/** While the browser says it is offline, try now and then anyway (it may be wrong). */
const OFFLINE_RETRY_MS = 30_000;

export class ChatSocket {
  /**
   * @param {object} opts
   * @param {() => Array<{chat:number, seq:number}>} opts.positions for `hello`
   * @param {(frame: object) => void} opts.onFrame every frame but `pong`
   * @param {(state: 'connecting'|'online'|'offline') => void} opts.onState
   * @param {() => void} opts.onSessionEnded `bye {reason: "session_ended"}`
   */
  constructor({ positions, onFrame, onState, onSessionEnded }) {
    this.positions = positions;
    this.onFrame = onFrame;
    this.onStateChange = onState;
    this.onSessionEnded = onSessionEnded;
    this.ws = null;
    this.ready = false;
    this.stopped = true;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.state = 'connecting';
    this.onOffline = () => {
      // A socket may well survive a lost network without noticing for a
      // minute: treat it as gone, and send nothing into it.
      this.drop();
      this.setState('offline');
      this.schedule(OFFLINE_RETRY_MS);
    };
    this.onOnline = () => {
      if (this.stopped) return;
      this.attempt = 0;
      this.connectSoon(0);
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
    this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
    if (navigator.onLine === false) this.onOffline();
    else this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    clearInterval(this.pingTimer);
    clearTimeout(this.retryTimer);
    this.drop();
  }

  /** Sends a frame if the connection is up (after `ready`); returns whether it went. */
  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get isReady() {
    return this.ready;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onStateChange(state);
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/ws`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.drop();
    this.setState(navigator.onLine === false ? 'offline' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: 'hello', v: 1, positions: this.positions() }));
    });
    ws.addEventListener('message', (e) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(frame);
    });
    ws.addEventListener('close', () => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.ready = false;
      if (!this.stopped) this.retry();
    });
    // An `error` is always followed by `close`.
  }

  handle(frame) {
    switch (frame.type) {
      case 'pong':
        return;
      case 'ready':
        this.ready = true;
        this.attempt = 0;
        this.setState('online');
        this.onFrame(frame);
        return;
      case 'bye':
        this.ready = false;
        if (frame.reason === 'session_ended') {
          this.stop();
          this.onSessionEnded();
          return;
        }
        // slow_consumer, shutdown, protocol: reconnect and resume from our positions.
        this.drop();
        this.retry();
        return;
      default:
        this.onFrame(frame);
    }
  }

  keepAlive() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastFrameAt > SILENCE_MS) {
      this.drop();
      this.retry();
      return;
    }
    this.ws.send(JSON.stringify({ type: 'ping' }));
  }

  /** Closes the current socket without scheduling anything. */
  drop() {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      try {
        ws.close();
      } catch {
        // Closing a socket that never opened.
      }
    }
  }

  retry() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setState('offline');
      this.schedule(OFFLINE_RETRY_MS);
      return;
    }
    this.setState('connecting');
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.schedule(delay);
  }

  schedule(ms) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), ms);
  }

  connectSoon(ms) {
    this.schedule(ms);
  }
}
