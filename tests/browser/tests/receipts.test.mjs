// Read receipts in a parents' chat (issue 20): the class teacher of 5А
// (Донская Эльмира, admin of «Родители 5А», on a 360 px phone) posts an
// announcement and watches «Прочитали N семей из M» count families as two
// parents of different students (Малышева Карина, Сафин Григорий) open it; she
// opens who has read it and reminds those who have not, and the parent sees
// the reminder. Asks for 3 codes, one per person.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { row, message, openChat, send } from '../lib/chat.mjs';

let server;
let browser;
let teacher;
let mother;
let father;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  teacher = await newPage(browser, server.url, { width: 360, height: 740 });
  mother = await newPage(browser, server.url);
  father = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 400-00-01' });
  await linkAndOpenMessenger(mother.page, { login: 'malysheva.kd', phone: '+7 912 400-00-02' });
  await linkAndOpenMessenger(father.page, { login: 'safin.gp', phone: '+7 912 400-00-03' });
});

after(async () => {
  for (const p of [teacher, mother, father]) await p?.context.close();
  await browser?.close();
  await server?.stop();
});

const CHAT = 'Родители 5А';

async function noHorizontalScroll(page) {
  const w = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(w <= 360, `scrollWidth ${w} > 360`);
}

test('the teacher sees «Прочитали 1 семья из 2» become «2 семьи из 2» as the second parent opens the announcement', async () => {
  const { page } = teacher;
  await openChat(page, CHAT);
  await send(page, 'Завтра уроки до 13:00');
  const receipt = message(page, 'Завтра уроки до 13:00').getByTestId('receipts');
  await receipt.filter({ hasText: 'Прочитали 0 семей из 2' }).waitFor();
  // ✓✓ is for direct chats: here her own message shows ✓ only.
  assert.equal(await message(page, 'Завтра уроки до 13:00').locator('[data-status="read"]').count(), 0);

  await openChat(mother.page, CHAT);
  await message(mother.page, 'Завтра уроки до 13:00').waitFor();
  await receipt.filter({ hasText: 'Прочитали 1 семья из 2' }).waitFor();
  // Parents see no counts.
  assert.equal(await mother.page.getByTestId('receipts').count(), 0);

  await openChat(father.page, CHAT);
  await message(father.page, 'Завтра уроки до 13:00').waitFor();
  await receipt.filter({ hasText: 'Прочитали 2 семьи из 2' }).waitFor();
  await noHorizontalScroll(page);
  await screenshot(page, 'receipts-count-phone');

  await receipt.click();
  const dialog = page.getByRole('dialog', { name: 'Кто прочитал' });
  await dialog.getByTestId('receipts-read').waitFor();
  const read = await dialog.getByTestId('receipts-read').textContent();
  assert.match(read, /Малышев/);
  assert.match(read, /Сафин Григорий: прочитано сегодня \d\d:\d\d/);
  assert.equal(await dialog.getByTestId('remind').count(), 0, 'nobody to remind');
  await noHorizontalScroll(page);
  await screenshot(page, 'receipts-list-phone');
  await dialog.getByRole('button', { name: 'Закрыть' }).click();
  assert.deepEqual([...teacher.problems, ...mother.problems, ...father.problems], []);
});

test('«Напомнить» reaches the family that has not read, once', async () => {
  const { page } = teacher;
  await mother.page.goto('/messenger#/');
  await row(mother.page, CHAT).waitFor();
  await send(page, 'Сдайте, пожалуйста, деньги на экскурсию');
  const receipt = message(page, 'Сдайте, пожалуйста').getByTestId('receipts');
  // The father still has the chat open: he reads it at once.
  await receipt.filter({ hasText: 'Прочитали 1 семья из 2' }).waitFor();
  await receipt.click();
  const dialog = page.getByRole('dialog', { name: 'Кто прочитал' });
  const unread = dialog.getByTestId('receipts-unread');
  await unread.waitFor();
  assert.match(await unread.textContent(), /Малышева Карина: ещё не прочитано/);
  await dialog.getByTestId('remind').click();
  await dialog.getByText(/Напоминание отправлено .*Следующее — не раньше/).waitFor();
  assert.equal(await dialog.getByTestId('remind').count(), 0, 'once in 12 hours');
  await noHorizontalScroll(page);
  await screenshot(page, 'receipts-reminded-phone');
  await dialog.getByRole('button', { name: 'Закрыть' }).click();

  const reminder = mother.page.getByTestId('reminder');
  await reminder.filter({ hasText: `Напоминание в чате «${CHAT}»` }).waitFor();
  assert.equal(await father.page.getByTestId('reminder').count(), 0, 'who has read is not reminded');
  await reminder.getByRole('button', { name: 'Открыть' }).click();
  await mother.page.getByRole('heading', { level: 2, name: CHAT }).waitFor();
  await receipt.filter({ hasText: 'Прочитали 2 семьи из 2' }).waitFor();
  assert.deepEqual([...teacher.problems, ...mother.problems, ...father.problems], []);
});
