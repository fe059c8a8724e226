// The teacher's classroom controls in a class call (issue 23), in three
// browsers with a fake camera and microphone: the class teacher of 5А
// (Донская Эльмира Филимоновна, the chat admin of «5А класс», so the call's
// moderator) and two students of 5А, Малышева Ева Викторовна and a classmate.
// A removed student is kept out until let back in.
//
// The server's media socket binds 127.0.0.1, so nothing leaves the machine.
// The tests run in order and share one class call.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { openChat } from '../lib/chat.mjs';
import { callView, inCall } from '../lib/calls.mjs';

let server;
let browser;
/** {context, page, problems} of each person. */
let teacher;
let eva;
let mate;

const EVA = 'Малышева Ева Викторовна';

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ calls: true });
  const classmate = server.accounts.find((a) => a.role === 'student' && a.login !== 'malysheva.ev' && /^учени(к|ца) 5А$/.test(a.note));
  teacher = await newPage(browser, server.url);
  eva = await newPage(browser, server.url);
  mate = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 500-00-01' });
  await linkAndOpenMessenger(eva.page, { login: 'malysheva.ev', phone: '+7 912 500-00-02' });
  await linkAndOpenMessenger(mate.page, { login: classmate.login, phone: '+7 912 500-00-03' });
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
