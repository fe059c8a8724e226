// Polls (issue 20) voted from three browsers: the class teacher of 5А
// (Донская Эльмира, on a 360 px phone) asks in «Родители 5А», two parents
// (Малышева Карина, Сафин Григорий) and she herself vote, results change
// live, a vote is changed, the poll is closed and its CSV names the voters.
// Asks for 3 codes, one per person.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { message, openChat } from '../lib/chat.mjs';

let server;
let browser;
const people = {};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  people.teacher = await newPage(browser, server.url, { width: 360, height: 740 });
  people.mother = await newPage(browser, server.url);
  people.father = await newPage(browser, server.url);
  await linkAndOpenMessenger(people.teacher.page, { login: 'donskaya.ef', phone: '+7 912 410-00-01' });
  await linkAndOpenMessenger(people.mother.page, { login: 'malysheva.kd', phone: '+7 912 410-00-02' });
  await linkAndOpenMessenger(people.father.page, { login: 'safin.gp', phone: '+7 912 410-00-03' });
});

after(async () => {
  for (const p of Object.values(people)) await p.context.close();
  await browser?.close();
  await server?.stop();
});

const CHAT = 'Родители 5А';
const QUESTION = 'Когда едем на экскурсию?';

function option(page, text) {
  return message(page, QUESTION).getByTestId('poll-option').filter({ hasText: text });
}

async function voters(page, text) {
  await message(page, QUESTION).getByTestId('poll-voters').filter({ hasText: text }).waitFor();
}

test('a poll is voted from three browsers with live results, a changed vote, closing and CSV', async () => {
  const t = people.teacher.page;
  const m = people.mother.page;
  const f = people.father.page;
  for (const page of [t, m, f]) await openChat(page, CHAT);

  await t.getByTestId('poll-create').click();
  const form = t.getByRole('dialog', { name: 'Новый опрос' });
  await form.getByTestId('poll-question').fill(QUESTION);
  await form.getByTestId('poll-option').nth(0).fill('В пятницу');
  await form.getByTestId('poll-option').nth(1).fill('В субботу');
  await form.getByTestId('poll-add-option').click();
  await form.getByTestId('poll-option').nth(2).fill('В воскресенье');
  await screenshot(t, 'poll-form-phone');
  await form.getByRole('button', { name: 'Создать' }).click();
  await form.waitFor({ state: 'detached' });

  await option(m, 'В пятницу').click();
  await voters(t, '1 голос');
  await option(f, 'В субботу').click();
  await option(t, 'В субботу').click();
  for (const page of [t, m, f]) await voters(page, '3 голоса');
  await option(f, 'В субботу').filter({ hasText: 'ваш ответ' }).waitFor();

  // The mother changes her mind: still three voters, two for Saturday now.
  await option(m, 'В субботу').click();
  await option(t, 'В субботу').locator('.pm-poll-count').filter({ hasText: /^3$/ }).waitFor();
  await option(t, 'В пятницу').locator('.pm-poll-count').filter({ hasText: /^0$/ }).waitFor();
  const w = await t.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(w <= 360, `scrollWidth ${w} > 360`);
  await screenshot(t, 'poll-results-phone');

  await message(t, QUESTION).getByTestId('poll-close').click();
  await voters(m, 'Опрос закрыт');
  assert.ok(await option(m, 'В пятницу').isDisabled(), 'a closed poll takes no votes');

  const href = await message(t, QUESTION).getByTestId('poll-csv').getAttribute('href');
  const csv = await t.evaluate((u) => fetch(u).then((r) => r.text()), href);
  assert.match(csv, /В субботу,3,Донская Эльмира; Малышева Карина; Сафин Григорий/);
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
});

test('a poll open in a chat closes on screen at its closing time, with no event to tell it', async () => {
  const t = people.teacher.page;
  const m = people.mother.page;
  const question = 'Кто сможет прийти в субботу?';
  await openChat(m, CHAT);
  // Asked over the API: the form's clock takes minutes, and the test waits seconds.
  await t.evaluate(async ({ name, question }) => {
    const chats = await (await fetch('/api/messenger/chats')).json();
    const chat = chats.find((c) => c.name === name);
    const res = await fetch(`/api/messenger/chats/${chat.id}/polls`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'poll-closes-soon', question, options: ['Смогу', 'Не смогу'], closes_at: Math.floor(Date.now() / 1000) + 3 }),
    });
    if (!res.ok) throw new Error(`POST: ${res.status}`);
  }, { name: CHAT, question });
  const card = message(m, question);
  const vote = card.getByTestId('poll-option').filter({ hasText: 'Не смогу' });
  await vote.waitFor();
  assert.ok(!(await vote.isDisabled()), 'open until its time');
  await card.getByTestId('poll-voters').filter({ hasText: 'Опрос закрыт' }).waitFor({ timeout: 10_000 });
  assert.ok(await vote.isDisabled(), 'closed by the clock alone: no more votes');
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
});
