// The teacher's classroom controls in a class call (issue 23), in three
// browsers with a fake camera and microphone: the class teacher of 5А
// (Донская Эльмира Филимоновна, the chat admin of «5А класс», so the call's
// moderator) and two students of 5А, Малышева Ева Викторовна and a classmate.
// Raised hands queue for the teacher; «Выключить микрофоны у всех» locks the
// students' microphones — in the page and in the SFU, which drops the audio
// of a page that sends it anyway — until the teacher gives one raised hand
// the floor or unlocks; a removed student is kept out until let back in; the
// teacher pins one participant's picture as everyone's main view.
//
// The server's media socket binds 127.0.0.1, so nothing leaves the machine.
// The tests run in order and share one class call.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshot } from '../lib/server.mjs';
import { openChat } from '../lib/chat.mjs';
import { callView, inCall, until, rtp, sleep, classOfThree } from '../lib/calls.mjs';

let server;
let browser;
/** {context, page, problems} of each person. */
let teacher;
let eva;
let mate;
/** The classmate's full name (the second 5А student of the demo accounts). */
let mateName;

const EVA = 'Малышева Ева Викторовна';

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ calls: true });
  ({ teacher, eva, mate, mateName } = await classOfThree(browser, server, async (p) => {
    // Each page keeps its WebSockets at hand: Ева's plays a client that ignores the lock.
    await p.context.addInitScript(() => {
      const Native = window.WebSocket;
      window.sockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.sockets.push(this);
        }
      };
    });
  }));
});

after(async () => {
  for (const p of [teacher, eva, mate]) await p?.context.close();
  await browser?.close();
  await server?.stop();
});

function noProblems() {
  for (const p of [teacher, eva, mate]) assert.deepEqual(p.problems, []);
}

/** Opens the call view's participant list, unless it is open. */
async function people(page) {
  const button = callView(page).getByRole('button', { name: 'Участники звонка' });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  return page.getByTestId('call-panel');
}

test('the teacher starts an audio call in «5А класс» and both students join from the banner', async () => {
  await openChat(teacher.page, '5А класс');
  await teacher.page.getByRole('button', { name: 'Аудиозвонок', exact: true }).click();
  await inCall(teacher.page, 1);
  for (const p of [eva.page, mate.page]) {
    await openChat(p, '5А класс');
    await p.getByTestId('call-banner').getByRole('button', { name: 'Присоединиться' }).click();
  }
  for (const p of [teacher.page, eva.page, mate.page]) await inCall(p, 3);
  noProblems();
});

test('a removed student\'s «Присоединиться» is refused with the reason until the teacher lets her back in', async () => {
  const t = teacher.page;
  const e = eva.page;
  const panel = await people(t);
  await panel.getByRole('button', { name: `Удалить из звонка: ${EVA}` }).click();
  await t.getByRole('dialog', { name: `Удалить из звонка: ${EVA}?` }).getByRole('button', { name: 'Удалить из звонка' }).click();
  await callView(e).waitFor({ state: 'detached' });
  const banner = e.getByTestId('call-banner');
  await banner.getByText(/модератор удалил вас из него$/).waitFor();

  await banner.getByRole('button', { name: 'Присоединиться' }).click();
  await e.getByRole('status').getByText('Модератор удалил вас из этого звонка. Вернуться можно, когда он впустит вас снова.').waitFor();
  assert.equal(await callView(e).count(), 0, 'not in the call');
  await inCall(t, 2);
  await screenshot(e, 'classroom-removed-banner');

  // The teacher sees whom she removed and lets her back in.
  const back = panel.getByTestId('call-removed').getByRole('button', { name: `Впустить снова: ${EVA}` });
  await back.waitFor();
  await screenshot(t, 'classroom-removed-list');
  await back.click();
  await panel.getByTestId('call-removed').waitFor({ state: 'detached' });
  await banner.getByText(/^Идёт звонок · \d участник/).waitFor();
  await banner.getByRole('button', { name: 'Присоединиться' }).click();
  for (const p of [t, e, mate.page]) await inCall(p, 3);
  noProblems();
});

/** The names in the raised-hands queue of the page's participant list, in order. */
function queue(panel) {
  return panel.getByTestId('call-hand').locator('.pm-cp-name').allTextContents();
}

test('students raise their hands: the teacher sees them queued in order, one lowers her own and the teacher lowers the other', async () => {
  const t = teacher.page;
  const e = eva.page;
  const m = mate.page;
  await callView(e).getByRole('button', { name: 'Поднять руку', exact: true }).click();
  await callView(e).getByRole('button', { name: 'Опустить руку', exact: true }).waitFor();
  await callView(t).getByTestId('call-notice').getByText('Поднята рука: Малышева Ева').waitFor();
  await callView(m).getByRole('button', { name: 'Поднять руку', exact: true }).click();
  const panel = await people(t);
  await until(async () => (await queue(panel)).length === 2, 'two hands in the queue');
  assert.deepEqual(await queue(panel), [EVA, mateName], 'first raised first');
  // Everyone sees it: the classmate's tile of Ева carries her place in the queue.
  const evaTile = m.getByTestId('call-tile').filter({ hasText: 'Малышева Ева' });
  assert.equal(await evaTile.getAttribute('data-hand'), '1');
  await screenshot(t, 'classroom-hands');
  // The teacher's queue on a phone: every button in reach, nothing sideways.
  await t.setViewportSize({ width: 390, height: 844 });
  try {
    assert.equal(await t.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
    for (const name of [`Дать слово: ${EVA}`, `Опустить руку: ${mateName}`, 'Выключить микрофоны у всех']) {
      // The list is built again whenever the speaker changes: measure a button that stays.
      let b = null;
      await until(async () => Boolean(b = await panel.getByRole('button', { name, exact: true }).boundingBox()), `«${name}»`);
      assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.width >= 44 && b.height >= 30, `«${name}» on the screen: ${JSON.stringify(b)}`);
    }
    await screenshot(t, 'classroom-hands-phone');
  } finally {
    await t.setViewportSize({ width: 1280, height: 860 });
  }

  await callView(e).getByRole('button', { name: 'Опустить руку', exact: true }).click();
  await until(async () => (await queue(panel)).join() === mateName, 'Ева\'s hand lowered');
  await until(async () => (await evaTile.getAttribute('data-hand')) === '', 'her tile without a hand');
  await panel.getByRole('button', { name: `Опустить руку: ${mateName}` }).click();
  await panel.getByTestId('call-hands').waitFor({ state: 'detached' });
  await callView(m).getByRole('button', { name: 'Поднять руку', exact: true }).waitFor();
  // A student has no «Опустить руку» for anyone else.
  const hers = await people(e);
  await callView(m).getByRole('button', { name: 'Поднять руку', exact: true }).click();
  await hers.getByTestId('call-hand').waitFor();
  assert.equal(await hers.getByRole('button', { name: /^Опустить руку: / }).count(), 0);
  await callView(m).getByRole('button', { name: 'Опустить руку', exact: true }).click();
  await hers.getByTestId('call-hands').waitFor({ state: 'detached' });
  noProblems();
});

/** The audio bytes the page's peer connection has received or sent, over all its audio streams. */
async function audioBytes(page, type) {
  return (await rtp(page, type)).filter((r) => r.kind === 'audio').reduce((n, r) => n + r.bytes, 0);
}

/** Whether the page's audio bytes of `type` grow over three seconds. */
async function audioGrows(page, type) {
  const before = await audioBytes(page, type);
  await sleep(3000);
  return (await audioBytes(page, type)) > before;
}

test('«Выключить микрофоны у всех» locks the students\' microphones, even against a page that sends anyway, until the teacher gives the floor or unlocks', async () => {
  const t = teacher.page;
  const e = eva.page;
  const m = mate.page;
  const panel = await people(t);
  await panel.getByRole('button', { name: 'Выключить микрофоны у всех' }).click();
  for (const p of [e, m]) {
    await callView(p).getByRole('button', { name: 'Микрофон выключен модератором', exact: true }).waitFor();
    await callView(p).getByTestId('call-notice').getByText('Модератор выключил микрофоны у всех.').waitFor();
  }
  await panel.getByTestId('call-lock').getByText('Микрофоны выключены').waitFor();
  await screenshot(t, 'classroom-locked-teacher');
  // The student's button is marked disabled and explains instead of unmuting.
  const locked = callView(e).getByRole('button', { name: 'Микрофон выключен модератором', exact: true });
  assert.equal(await locked.getAttribute('aria-disabled'), 'true');
  await locked.click({ force: true });
  await callView(e).getByTestId('call-notice').getByText('Модератор выключил микрофоны. Поднимите руку, чтобы попросить слово.').waitFor();
  assert.equal(await callView(e).getByRole('button', { name: 'Выключить микрофон', exact: true }).count(), 0);

  // A page that ignores the lock, puts its microphone back on the wire and
  // tells the server it is unmuted: refused, it sends, and the SFU forwards none of it.
  await e.evaluate(async () => {
    const track = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
    window.forced = track;
    await window.__partaCall.pc.getTransceivers()[0].sender.replaceTrack(track);
    const socket = window.sockets.findLast((ws) => ws.readyState === WebSocket.OPEN);
    socket.send(JSON.stringify({ type: 'call_media', call: window.__partaCall.callId, audio: true, video: false, screen: false }));
  });
  assert.ok(await audioGrows(e, 'outbound-rtp'), 'the page sends audio');
  assert.equal(await audioGrows(t, 'inbound-rtp'), false, 'the teacher receives none of it');
  await callView(e).getByTestId('call-notice').getByText('Модератор выключил микрофоны. Включить микрофон можно, когда он разрешит или даст вам слово.').waitFor();
  await e.evaluate(async () => {
    await window.__partaCall.pc.getTransceivers()[0].sender.replaceTrack(null);
    window.forced.stop();
  });

  // Ева raises her hand and is given the floor: her hand goes down and she speaks.
  await callView(e).getByRole('button', { name: 'Поднять руку', exact: true }).click();
  await panel.getByRole('button', { name: `Дать слово: ${EVA}` }).click();
  await callView(e).getByTestId('call-notice').getByText('Вам дали слово: можно включить микрофон.').waitFor();
  await panel.getByTestId('call-hands').waitFor({ state: 'detached' });
  await panel.getByText(`Слово у: ${EVA}`).waitFor();
  await callView(e).getByRole('button', { name: 'Включить микрофон', exact: true }).click();
  await callView(e).getByRole('button', { name: 'Выключить микрофон', exact: true }).waitFor();
  await until(() => audioGrows(t, 'inbound-rtp'), 'the teacher hearing Ева');
  await callView(m).getByRole('button', { name: 'Микрофон выключен модератором', exact: true }).waitFor();
  await screenshot(e, 'classroom-floor-student');

  await panel.getByRole('button', { name: 'Разрешить включать микрофоны' }).click();
  await callView(m).getByTestId('call-notice').getByText('Модератор разрешил включать микрофоны.').waitFor();
  await callView(m).getByRole('button', { name: 'Включить микрофон', exact: true }).click();
  await callView(m).getByRole('button', { name: 'Выключить микрофон', exact: true }).waitFor();
  await panel.getByRole('button', { name: 'Выключить микрофоны у всех' }).waitFor();
  noProblems();
});

/** The stage's layout and its presenter tile on the page: {layout, name, self, width, widest}. */
function stage(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="call-stage"]');
    const tiles = [...el.querySelectorAll('[data-testid="call-tile"]')];
    const pinned = el.querySelector('.pm-tile.is-presenter');
    const width = (t) => t.getBoundingClientRect().width;
    return {
      layout: el.dataset.layout,
      name: pinned?.querySelector('.pm-tile-name').textContent ?? null,
      self: Boolean(pinned?.classList.contains('is-self')),
      width: pinned ? width(pinned) : 0,
      widest: Math.max(...tiles.filter((t) => t !== pinned).map(width)),
    };
  });
}

test('the teacher pins Ева as the presenter: the main view on every page, a phone too; unpinning and the presenter leaving clear it', async () => {
  const t = teacher.page;
  const e = eva.page;
  const m = mate.page;
  const panel = await people(t);
  // A student has no pin.
  const hers = await people(m);
  await hers.getByTestId('call-person').first().waitFor();
  assert.equal(await hers.getByRole('button', { name: /^Закрепить для всех/ }).count(), 0);
  await callView(m).getByRole('button', { name: 'Участники звонка' }).click();

  await panel.getByRole('button', { name: `Закрепить для всех: ${EVA}` }).click();
  for (const p of [t, m]) {
    await until(async () => (await stage(p)).name === 'Малышева Ева', 'Ева pinned');
  }
  await until(async () => (await stage(e)).self, 'her own tile pinned on her page');
  for (const p of [t, e, m]) {
    const s = await stage(p);
    assert.equal(s.layout, 'presenter');
    assert.ok(s.width > s.widest * 1.5, `the presenter is the main view: ${JSON.stringify(s)}`);
  }
  await panel.getByTestId('call-person').filter({ hasText: EVA }).getByText('закреплён для всех').waitFor();
  await screenshot(t, 'classroom-presenter-desktop');

  await m.setViewportSize({ width: 390, height: 844 });
  try {
    const s = await stage(m);
    assert.ok(s.width >= 350, `the presenter spans a phone's width: ${JSON.stringify(s)}`);
    assert.equal(await m.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
    for (const name of ['Поднять руку', 'Участники звонка', 'Завершить']) {
      const b = await callView(m).getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y + b.height <= 844, `«${name}» on the screen`);
    }
    await screenshot(m, 'classroom-presenter-phone');
  } finally {
    await m.setViewportSize({ width: 1280, height: 860 });
  }

  await panel.getByRole('button', { name: `Открепить: ${EVA}` }).click();
  for (const p of [t, e, m]) await until(async () => (await stage(p)).layout !== 'presenter', 'unpinned');

  await panel.getByRole('button', { name: `Закрепить для всех: ${mateName}` }).click();
  await until(async () => (await stage(e)).layout === 'presenter', 'the classmate pinned');
  await callView(m).getByRole('button', { name: 'Завершить', exact: true }).click();
  await callView(m).waitFor({ state: 'detached' });
  for (const p of [t, e]) await until(async () => (await stage(p)).layout !== 'presenter', 'unpinned as she left');

  await t.getByRole('button', { name: 'Завершить для всех' }).click();
  await t.getByRole('dialog', { name: 'Завершить звонок для всех?' }).getByRole('button', { name: 'Завершить для всех' }).click();
  for (const p of [t, e]) await callView(p).waitFor({ state: 'detached' });
  noProblems();
});
