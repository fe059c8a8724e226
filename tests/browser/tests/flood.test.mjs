// «Слишком часто, подождите»: a student who sends faster than the school's
// flood limit (set small here: two messages, then one every two seconds)
// sees the notice under the messages held back, and they go out by themselves
// after the wait, in order, each once. Nothing typed is lost.
//
// This file asks for 1 code.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';

let server;
let browser;
let student;

before(async () => {
  server = await startServer({ config: '[flood]\nmessages = { burst = 2, per_second = 0.5 }\n' });
  browser = await launchBrowser();
  // The socket's refusals are frames, not HTTP answers: no 429 reaches the console.
  student = await newPage(browser, server.url);
  await linkAndOpenMessenger(student.page, { login: 'malysheva.ev', phone: '+7 912 300-00-02' });
});

after(async () => {
  await student?.context.close();
  await browser?.close();
  await server?.stop();
});

test('messages sent too often wait with «Слишком часто, подождите» and then go by themselves', async () => {
  const p = student.page;
  await p.getByTestId('chat-row').filter({ hasText: '5А класс' }).first().click();
  await p.getByRole('heading', { level: 2, name: '5А класс' }).waitFor();
  const texts = ['Раз', 'Два', 'Три', 'Четыре'];
  for (const text of texts) {
    await p.getByTestId('composer').fill(text);
    await p.getByTestId('composer').press('Enter');
  }
  const notice = p.getByTestId('send-waiting');
  await notice.waitFor();
  assert.match(await notice.textContent(), /^Слишком часто, подождите/);
  assert.equal(await notice.count(), 1, 'one notice, under the last message held back');
  await screenshot(p, 'flood-waiting');
  // Held messages stay on the page meanwhile, and the notice goes once all are sent.
  assert.ok(await p.locator('.pm-pending').count() >= 1);
  await notice.waitFor({ state: 'detached', timeout: 20_000 });
  await p.locator('.pm-pending').first().waitFor({ state: 'detached', timeout: 10_000 });

  const chats = await p.evaluate(() => fetch('/api/messenger/chats').then((r) => r.json()));
  const chat = chats.find((c) => c.name === '5А класс');
  const history = await p.evaluate((id) => fetch(`/api/messenger/chats/${id}/messages`).then((r) => r.json()), chat.id);
  const mine = history.messages.filter((m) => texts.includes(m.text)).map((m) => m.text);
  assert.deepEqual(mine, texts, 'every message stored once, in the order typed');
  assert.deepEqual(student.problems, []);
});

test('the notice is in English for an English page', async () => {
  const p = student.page;
  await p.evaluate(() => localStorage.setItem('parta.lang', 'en'));
  await p.reload();
  await p.getByTestId('chat-row').filter({ hasText: '5А класс' }).first().click();
  for (const text of ['One', 'Two', 'Three']) {
    await p.getByTestId('composer').fill(text);
    await p.getByTestId('composer').press('Enter');
  }
  const notice = p.getByTestId('send-waiting');
  await notice.waitFor();
  assert.match(await notice.textContent(), /^Too often, please wait/);
  await notice.waitFor({ state: 'detached', timeout: 20_000 });
  assert.deepEqual(student.problems, []);
});
