// Calls in Parta Мессенджер, in three browsers with a fake camera and
// microphone: the class teacher of 5А (Донская Эльмира Филимоновна, the chat
// admin of «5А класс», so a moderator of its calls) and two students of 5А,
// Малышева Ева Викторовна and a classmate (both demo accounts). A group video
// call joined from the banner, media flowing both ways (read from
// RTCPeerConnection.getStats() through window.__partaCall), the others'
// voices played from the SFU's voice slots (msid `voices`), the speaking
// indicator the server's `call_speaker` drives (Chromium's fake microphone
// beeps, loud enough to be a voice), mute and a moderator's mute, a phone
// screen, «Завершить для всех» and its record; a direct call that rings, is
// answered and hung up, one that is declined, and a dropped connection that
// rejoins the same call.
//
// The server's media socket binds 127.0.0.1 (the demo's default), so nothing
// leaves the machine. This file asks for 3 codes; the tests run in order and
// share the three people.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshot } from '../lib/server.mjs';
import { row, openChat } from '../lib/chat.mjs';
import { callView, inCall, rtp, until, receiving, sleep, classOfThree } from '../lib/calls.mjs';

let server;
let browser;
/** {context, page, problems, speakers} of each person; `speakers` are the `call_speaker` frames the page got. */
let teacher;
let eva;
let mate;
/** The classmate's full name (the second 5А student of the demo accounts). */
let mateName;

const EVA = 'Малышева Ева Викторовна';

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ calls: true });
  ({ teacher, eva, mate, mateName } = await classOfThree(browser, server, withSpeakers));
});

after(async () => {
  for (const p of [teacher, eva, mate]) await p?.context.close();
  await browser?.close();
  await server?.stop();
});

/** Records the `call_speaker` frames of every WebSocket the page opens. */
function withSpeakers(p) {
  p.speakers = [];
  p.page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    if (typeof payload !== 'string' || !payload.includes('"call_speaker"')) return;
    const f = JSON.parse(payload);
    if (f.type === 'call_speaker') p.speakers.push(f);
  }));
  return p;
}

function noProblems() {
  for (const p of [teacher, eva, mate]) assert.deepEqual(p.problems, []);
}

/**
 * What plays the page's sound: its voice slots' `<audio>` elements (how many,
 * how many of them play a live track) and the tiles' `<video>` elements that
 * could play sound (unmuted, or with an audio track).
 */
function sound(page) {
  return page.evaluate(() => {
    const voices = [...(window.__partaCall.voices?.values() || [])];
    const live = (a) => !a.paused && a.srcObject?.getAudioTracks().length === 1 && a.srcObject.getAudioTracks()[0].readyState === 'live';
    const tiles = [...document.querySelectorAll('[data-testid="call-tile"] video')];
    return {
      voices: voices.length,
      playing: voices.filter(live).length,
      tilesWithSound: tiles.filter((v) => !v.muted || (v.srcObject?.getAudioTracks().length ?? 0) > 0).length,
    };
  });
}

/** The audio bytes the page sends, over all its audio streams. */
async function audioSent(page) {
  return (await rtp(page, 'outbound-rtp')).filter((s) => s.kind === 'audio').reduce((n, s) => n + s.bytes, 0);
}

test('the class teacher starts a video call in «5А класс»; two students join from the banner and everyone hears the others\' voices and sees their pictures', async () => {
  const t = teacher.page;
  await openChat(t, '5А класс');
  await t.getByText('3 участника').waitFor();
  await t.getByRole('button', { name: 'Видеозвонок', exact: true }).click();
  await inCall(t, 1);
  assert.equal(await t.evaluate(() => typeof window.__partaCall.callId), 'number');

  for (const p of [eva.page, mate.page]) {
    // The list marks the chat; the chat itself offers to join.
    await row(p, '5А класс').getByTestId('call-badge').waitFor();
    await openChat(p, '5А класс');
    const banner = p.getByTestId('call-banner');
    await banner.getByText(/^Идёт звонок · \d участник/).waitFor();
    await banner.getByRole('button', { name: 'Присоединиться' }).click();
  }
  await screenshot(eva.page, 'calls-banner-joined');
  for (const p of [t, eva.page, mate.page]) await inCall(p, 3);
  // A video call: the camera is on for those who join it too.
  await eva.page.getByRole('button', { name: 'Выключить камеру', exact: true }).waitFor();

  // The voices come on the SFU's voice slots (whoever speaks is in one), the pictures one per person.
  await receiving([t, eva.page, mate.page], { audio: 1, video: 2 });
  for (const p of [t, eva.page, mate.page]) {
    const audio = (await rtp(p, 'inbound-rtp')).filter((s) => s.kind === 'audio');
    assert.ok(audio.length <= 3, `${audio.length} inbound audio streams, at most 3 voice slots`);
    // Every slot plays; a tile's picture never carries sound.
    await until(async () => {
      const { voices, playing } = await sound(p);
      return voices > 0 && playing === voices;
    }, 'the voice slots playing');
    assert.equal((await sound(p)).tilesWithSound, 0);
  }
  // Every tile of the others shows their picture.
  await t.waitForFunction(() => [...document.querySelectorAll('[data-testid="call-tile"]:not(.is-self)')]
    .every((el) => el.dataset.video === 'true' && el.querySelector('video').videoWidth > 0));
  await screenshot(t, 'calls-group-desktop');
  noProblems();
});

test('the server\'s call_speaker lights up the one speaking on the others\' tiles and in the participant list', async () => {
  const people = [teacher, eva, mate];
  const callId = await teacher.page.evaluate(() => window.__partaCall.callId);
  /** A page showing someone else's tile as speaking: [that page, the person]. */
  let lit = null;
  await until(async () => {
    for (const p of people) {
      const person = await p.page.evaluate(() => document.querySelector('[data-testid="call-tile"].is-speaking:not(.is-self)')?.dataset.person);
      if (person) {
        lit = [p, Number(person)];
        return true;
      }
    }
    return false;
  }, 'a tile lit as speaking');
  const [p, speaker] = lit;
  // The page has it from the server: the frame named that person in this call.
  assert.ok(p.speakers.some((f) => f.call === callId && f.person === speaker), `call_speaker named ${speaker}: ${JSON.stringify(p.speakers)}`);
  // Every connection in the call is told, the speaker's own too.
  for (const q of people) {
    await until(async () => q.speakers.some((f) => f.call === callId && typeof f.person === 'number'), 'call_speaker on every page');
  }

  // The participant list says it in words.
  const view = callView(p.page);
  await view.getByRole('button', { name: 'Участники звонка' }).click();
  const listed = await p.page.waitForFunction(() => {
    const row = document.querySelector('[data-testid="call-person"].is-speaking:not(:has(.pm-member-me))');
    return row?.querySelector('.pm-cp-state').textContent.includes('говорит') && row.dataset.person;
  }, null, { timeout: 20_000 });
  const named = Number(await listed.jsonValue());
  assert.ok(p.speakers.some((f) => f.call === callId && f.person === named), `call_speaker named ${named}`);
  await screenshot(p.page, 'calls-speaking');
  await view.getByRole('button', { name: 'Участники звонка' }).click();
  noProblems();
});

test('muting stops the page\'s outbound audio and the others see it; the teacher mutes a student, who is told so', async () => {
  const t = teacher.page;
  const e = eva.page;
  const m = mate.page;
  assert.ok(await audioSent(e) > 0, 'Ева sends audio before muting');
  await e.getByRole('button', { name: 'Выключить микрофон', exact: true }).click();
  await e.getByRole('button', { name: 'Включить микрофон', exact: true }).waitFor();
  // What was on its way is out after a moment; then nothing more goes.
  await sleep(1000);
  const a = await audioSent(e);
  await sleep(2500);
  assert.equal(await audioSent(e), a, 'no audio is sent while muted');

  // The others: her tile and her line in the participant list say so.
  await t.getByRole('button', { name: 'Участники звонка' }).click();
  const people = t.getByTestId('call-people');
  const evaRow = people.getByTestId('call-person').filter({ hasText: EVA });
  await evaRow.getByText('микрофон выключен').waitFor();
  assert.equal(await evaRow.getAttribute('data-audio'), 'false');
  await m.waitForFunction(() => document.querySelector('[data-testid="call-tile"].is-muted:not(.is-self)') !== null);
  await screenshot(t, 'calls-participants-desktop');

  // Unmuted, her audio flows again.
  await e.getByRole('button', { name: 'Включить микрофон', exact: true }).click();
  await e.getByRole('button', { name: 'Выключить микрофон', exact: true }).waitFor();
  const b = await audioSent(e);
  await until(async () => (await audioSent(e)) > b, 'audio again after unmuting');
  await evaRow.getByText('микрофон включён').waitFor();

  // The teacher moderates: the classmate's microphone goes off from her side.
  const mateRow = people.getByTestId('call-person').filter({ hasText: mateName });
  await mateRow.getByRole('button', { name: `Выключить микрофон: ${mateName}` }).click();
  await m.getByTestId('call-notice').getByText('Вас отключил(а) Донская Эльмира').waitFor();
  await m.getByRole('button', { name: 'Включить микрофон', exact: true }).waitFor();
  await mateRow.getByText('микрофон выключен').waitFor();
  // A student is no moderator: no such buttons for her.
  await e.getByRole('button', { name: 'Участники звонка' }).click();
  await e.getByTestId('call-people').getByTestId('call-person').first().waitFor();
  assert.equal(await e.getByRole('button', { name: /^Выключить микрофон: / }).count(), 0);
  assert.equal(await e.getByRole('button', { name: 'Завершить для всех' }).count(), 0);
  await e.getByRole('button', { name: 'Участники звонка' }).click();
  noProblems();
});

test('the call view at phone width: the whole screen, every control in reach, minimized to a bar over the chat', async () => {
  const m = mate.page;
  await m.setViewportSize({ width: 390, height: 844 });
  try {
    const view = callView(m);
    const box = await view.boundingBox();
    assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844]);
    assert.equal(await m.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
    for (const name of ['Включить микрофон', 'Выключить камеру', 'Микрофон и камера', 'Участники звонка', 'Завершить']) {
      const b = await view.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y + b.height <= 844, `«${name}» on the screen`);
      assert.ok(b.width >= 44 && b.height >= 44, `«${name}» big enough to tap`);
    }
    // Own picture in the corner, the others' tiles side by side.
    const tiles = await m.getByTestId('call-tile').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().width));
    assert.ok(tiles.every((w) => w > 100), `tiles ${tiles}`);
    await screenshot(m, 'calls-group-phone');

    await view.getByRole('button', { name: 'Участники звонка' }).click();
    const panel = await view.getByTestId('call-panel').boundingBox();
    assert.equal(panel.width, 390);
    await screenshot(m, 'calls-participants-phone');
    await view.getByRole('button', { name: 'Закрыть' }).click();

    await view.getByRole('button', { name: 'Свернуть звонок' }).click();
    await m.getByTestId('composer').waitFor();
    const pill = await view.boundingBox();
    assert.ok(pill.height < 80 && pill.width <= 390, 'a bar, not the screen');
    await screenshot(m, 'calls-minimized-phone');
    await view.getByRole('button', { name: 'Вернуться к звонку' }).click();
    await view.getByRole('button', { name: 'Завершить', exact: true }).waitFor();
  } finally {
    await m.setViewportSize({ width: 1280, height: 860 });
  }
  noProblems();
});

test('the teacher ends the call for everyone: every call view closes, its voices stop and the record is in the chat', async () => {
  const t = teacher.page;
  for (const p of [t, eva.page, mate.page]) await p.evaluate(() => { window.oldVoices = [...window.__partaCall.voices.values()]; });
  await t.getByRole('button', { name: 'Завершить для всех' }).click();
  const confirm = t.getByRole('dialog', { name: 'Завершить звонок для всех?' });
  await confirm.getByRole('button', { name: 'Завершить для всех' }).click();
  for (const p of [t, eva.page, mate.page]) {
    await callView(p).waitFor({ state: 'detached' });
    const record = p.getByTestId('call-record');
    await record.getByText(/^Видеозвонок · \d+ (с|мин) · участники: /).waitFor();
    await record.getByText('Звонок завершён модератором').waitFor();
    assert.match(await record.textContent(), /Донская Эльмира/);
    assert.equal(await p.evaluate(() => window.__partaCall.pc), null);
    assert.ok(await p.evaluate(() => window.oldVoices.length > 0 && window.oldVoices.every((a) => a.paused && a.srcObject === null)), 'the voices are let go');
  }
  await eva.page.getByRole('status').getByText('Звонок завершён модератором.').waitFor();
  await t.getByTestId('call-banner').waitFor({ state: 'hidden' });
  await row(eva.page, '5А класс').getByText('📞 Видеозвонок').waitFor();
  assert.equal(await row(eva.page, '5А класс').getByTestId('call-badge').count(), 0);
  await screenshot(t, 'calls-record');
  noProblems();
});

test('a direct call rings, is answered, carries both voices and a camera turned on later, and leaves a record when hung up', async () => {
  const t = teacher.page;
  const e = eva.page;
  await t.getByTestId('chat-info').click();
  await t.getByTestId('members-panel').getByRole('button', { name: `Написать: ${EVA}` }).click();
  await t.getByRole('heading', { level: 2, name: 'Малышева Ева' }).waitFor();
  await t.getByTestId('composer').fill('Ева, созвонимся на минуту?');
  await t.getByTestId('composer').press('Enter');
  await row(e, 'Донская Эльмира').waitFor();

  await t.getByRole('button', { name: 'Аудиозвонок', exact: true }).click();
  await callView(t).getByTestId('call-status').getByText('Вызов…').waitFor();
  const ring = e.getByRole('dialog', { name: 'Входящий звонок' });
  await ring.getByText('Донская Эльмира звонит вам.').waitFor();
  await screenshot(e, 'calls-incoming');
  await ring.getByRole('button', { name: 'Принять' }).click();
  await e.locator('.pm-conv').getByRole('heading', { level: 2, name: 'Донская Эльмира' }).waitFor();
  await inCall(e, 2);
  await inCall(t, 2);
  // An audio call: voices both ways, no pictures yet.
  await receiving([t, e], { audio: 1 });
  await e.getByRole('button', { name: 'Включить камеру', exact: true }).click();
  await e.getByRole('button', { name: 'Выключить камеру', exact: true }).waitFor();
  await receiving([t], { audio: 1, video: 1 });
  await screenshot(t, 'calls-direct-desktop');

  await t.getByRole('button', { name: 'Завершить', exact: true }).click();
  for (const p of [t, e]) {
    await callView(p).waitFor({ state: 'detached' });
    await p.getByTestId('call-record').getByText(/^Аудиозвонок · \d+ (с|мин) · участники: /).waitFor();
  }
  noProblems();
});

test('a declined direct call ends at once for the caller and is recorded as «Отклонённый звонок»', async () => {
  const t = teacher.page;
  const e = eva.page;
  await t.getByRole('button', { name: 'Видеозвонок', exact: true }).click();
  const ring = e.getByRole('dialog', { name: 'Входящий звонок' });
  await ring.getByText('Донская Эльмира звонит вам по видео.').waitFor();
  await ring.getByRole('button', { name: 'Отклонить' }).click();
  await ring.waitFor({ state: 'detached' });
  await callView(t).waitFor({ state: 'detached' });
  await t.getByRole('status').getByText('Звонок отклонён.').waitFor();
  for (const p of [t, e]) {
    await p.getByTestId('call-record').filter({ hasText: 'Отклонённый звонок' }).waitFor();
  }
  await row(e, 'Донская Эльмира').getByText('📞 Отклонённый звонок').waitFor();
  noProblems();
});

test('a dropped connection comes back into the same call with a fresh offer, and the media and the voices flow again', async () => {
  const t = teacher.page;
  const e = eva.page;
  await openChat(t, '5А класс');
  await t.getByRole('button', { name: 'Аудиозвонок', exact: true }).click();
  await inCall(t, 1);
  await openChat(e, '5А класс');
  await e.getByTestId('call-banner').getByRole('button', { name: 'Присоединиться' }).click();
  await inCall(e, 2);
  await receiving([t, e], { audio: 1 });
  const callId = await e.evaluate(() => {
    window.oldPeer = window.__partaCall.pc;
    window.oldVoices = [...window.__partaCall.voices.values()];
    return window.__partaCall.callId;
  });

  await eva.context.setOffline(true);
  await e.getByTestId('connection').getByText('Нет сети').waitFor();
  await sleep(1500);
  await eva.context.setOffline(false);
  await e.getByTestId('connection').getByText('Нет сети').waitFor({ state: 'detached' });
  await e.waitForFunction(() => window.__partaCall.pc && window.__partaCall.pc !== window.oldPeer);
  assert.equal(await e.evaluate(() => window.__partaCall.callId), callId, 'the same call');
  await inCall(e, 2);
  await receiving([t, e], { audio: 1 });
  // The old peer's voices went with it; the new one's play.
  assert.ok(await e.evaluate(() => window.oldVoices.length > 0 && window.oldVoices.every((a) => a.srcObject === null)), 'the old voices are let go');
  await until(async () => {
    const { voices, playing } = await sound(e);
    return voices > 0 && playing === voices;
  }, 'the new voice slots playing');

  await t.getByRole('button', { name: 'Завершить', exact: true }).click();
  await e.getByRole('button', { name: 'Завершить', exact: true }).click();
  for (const p of [t, e]) await callView(p).waitFor({ state: 'detached' });
  noProblems();
});

test('in an announcement-only chat only the teacher starts a call: a student has no call buttons and joins the teacher\'s from the banner', async () => {
  const t = teacher.page;
  const e = eva.page;
  await openChat(t, '5А класс');
  // «Только администраторы пишут»: set by the teacher (its switch has its own test in messenger-chat).
  const chatId = await t.evaluate(async () => {
    const chats = await (await fetch('/api/messenger/chats')).json();
    const chat = chats.find((c) => c.name === '5А класс');
    const res = await fetch(`/api/messenger/chats/${chat.id}`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ announcement_only: true }),
    });
    if (!res.ok) throw new Error(`PATCH: ${res.status}`);
    return chat.id;
  });
  assert.equal(typeof chatId, 'number');
  await openChat(e, '5А класс');
  await e.getByText('Писать в этот чат могут только администраторы чата').waitFor();
  await until(async () => (await e.getByRole('button', { name: 'Аудиозвонок', exact: true }).isVisible()) === false, 'the student\'s call buttons to hide');
  assert.equal(await e.getByRole('button', { name: 'Видеозвонок', exact: true }).isVisible(), false);
  await t.getByRole('button', { name: 'Аудиозвонок', exact: true }).click();
  await inCall(t, 1);
  const banner = e.getByTestId('call-banner');
  await banner.getByRole('button', { name: 'Присоединиться' }).click();
  await inCall(e, 2);
  await inCall(t, 2);
  for (const p of [e, t]) {
    await p.getByRole('button', { name: 'Завершить', exact: true }).click();
    await callView(p).waitFor({ state: 'detached' });
  }
  noProblems();
});

test('removing a participant asks first: «Отмена» keeps the student in the call, confirming removes her and she is told why', async () => {
  const t = teacher.page;
  const e = eva.page;
  await openChat(t, '5А класс');
  await t.getByRole('button', { name: 'Аудиозвонок', exact: true }).click();
  await inCall(t, 1);
  await openChat(e, '5А класс');
  await e.getByTestId('call-banner').getByRole('button', { name: 'Присоединиться' }).click();
  await inCall(e, 2);
  await t.getByRole('button', { name: 'Участники звонка' }).click();
  const remove = t.getByTestId('call-people').getByRole('button', { name: `Удалить из звонка: ${EVA}` });
  await remove.click();
  const ask = t.getByRole('dialog', { name: `Удалить из звонка: ${EVA}?` });
  await ask.getByRole('button', { name: 'Отмена' }).click();
  await ask.waitFor({ state: 'detached' });
  await inCall(e, 2);
  await remove.click();
  await t.getByRole('dialog', { name: `Удалить из звонка: ${EVA}?` }).getByRole('button', { name: 'Удалить из звонка' }).click();
  await callView(e).waitFor({ state: 'detached' });
  await e.getByRole('status').getByText('Модератор удалил вас из звонка.').waitFor();
  await t.getByRole('button', { name: 'Завершить', exact: true }).click();
  await callView(t).waitFor({ state: 'detached' });
  noProblems();
});
