// A call as the pages see it: the call view, its tiles, and the media its
// RTCPeerConnection (window.__partaCall.pc) sends and receives.

import assert from 'node:assert/strict';
import { newPage } from './server.mjs';
import { linkAndOpenMessenger } from './partaid.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The call's own view. */
export function callView(page) {
  return page.getByTestId('call-view');
}

/** Waits until the page is in a call with `n` tiles (everyone, oneself included) and its status is a running clock. */
export async function inCall(page, n) {
  await callView(page).getByTestId('call-status').getByText(/^\d\d:\d\d$/).waitFor({ timeout: 20_000 });
  await page.waitForFunction((count) => document.querySelectorAll('[data-testid="call-tile"]').length === count, n);
}

/** The RTP streams of the page's peer connection: {id, kind, bytes} (bytes received or sent). */
export function rtp(page, type) {
  return page.evaluate(async (t) => {
    const pc = window.__partaCall?.pc;
    if (!pc) return [];
    const out = [];
    (await pc.getStats()).forEach((r) => {
      if (r.type === t) out.push({ id: r.id, kind: r.kind, bytes: (t === 'inbound-rtp' ? r.bytesReceived : r.bytesSent) || 0 });
    });
    return out;
  }, type);
}

/** Polls `check` (an async function) until it gives something truthy, and returns that. */
export async function until(check, what, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Every page receives `want` ({audio, video}: how many streams of each) and
 * every one of those streams grows over 3 s.
 */
export async function receiving(pages, want) {
  for (const page of pages) {
    await until(async () => {
      const got = (await rtp(page, 'inbound-rtp')).filter((s) => s.bytes > 0);
      return Object.entries(want).every(([kind, n]) => got.filter((s) => s.kind === kind).length >= n);
    }, `media on ${page.url()}`);
  }
  const before = await Promise.all(pages.map((p) => rtp(p, 'inbound-rtp')));
  await sleep(3000);
  const after = await Promise.all(pages.map((p) => rtp(p, 'inbound-rtp')));
  pages.forEach((_, i) => {
    for (const [kind, n] of Object.entries(want)) {
      const grown = after[i].filter((s) => s.kind === kind && s.bytes > (before[i].find((b) => b.id === s.id)?.bytes ?? 0));
      assert.ok(grown.length >= n, `page ${i}: ${grown.length} growing inbound ${kind} streams, want ${n}`);
    }
  });
}


/**
 * A class call's three people, each in a page of their own with the
 * messenger open: the class teacher of 5А (Донская Эльмира Филимоновна, the
 * chat admin of «5А класс»), Малышева Ева Викторовна and a classmate (both
 * students of 5А). `prepare(page)` runs on each new page before it signs in.
 * Returns {teacher, eva, mate, mateName}, each person {context, page, problems}.
 */
export async function classOfThree(browser, server, prepare = async () => {}) {
  const classmate = server.accounts.find((a) => a.role === 'student' && a.login !== 'malysheva.ev' && /^учени(к|ца) 5А$/.test(a.note));
  const who = [['donskaya.ef', '+7 912 500-00-01'], ['malysheva.ev', '+7 912 500-00-02'], [classmate.login, '+7 912 500-00-03']];
  const people = [];
  for (const [login, phone] of who) {
    const p = await newPage(browser, server.url);
    await prepare(p);
    await linkAndOpenMessenger(p.page, { login, phone });
    people.push(p);
  }
  const [teacher, eva, mate] = people;
  return { teacher, eva, mate, mateName: classmate.name };
}
