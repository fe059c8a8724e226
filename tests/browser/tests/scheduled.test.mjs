// Scheduled messages («Отправить позже», issue 19): the class teacher of 5А
// (Донская Эльмира, on a 360 px phone) schedules two messages in «Родители
// 5А» from the composer's clock — a quick choice and a typed time —, sees
// them above the composer, edits one and cancels the other. Then a message
// scheduled two seconds ahead through `scheduleMessage` (the call the
// quiet-hours banner makes) reaches a parent (Малышева Карина) when its time
// comes: the server's background job sends it on the real clock. Asks for 2 codes.

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
  await linkAndOpenMessenger(people.teacher.page, { login: 'donskaya.ef', phone: '+7 912 420-00-01' });
  await linkAndOpenMessenger(people.mother.page, { login: 'malysheva.kd', phone: '+7 912 420-00-02' });
});

after(async () => {
  for (const p of Object.values(people)) await p.context.close();
  await browser?.close();
  await server?.stop();
});

const CHAT = 'Родители 5А';

/** A `datetime-local` value `days` from now at `hour`:00, in the page's time zone. */
function localAt(page, days, hour) {
  return page.evaluate(([d, hr]) => {
    const at = new Date();
    at.setDate(at.getDate() + d);
    at.setHours(hr, 0, 0, 0);
    const p = (n) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}:${p(at.getMinutes())}`;
  }, [days, hour]);
}

async function scheduleFromComposer(page, text, pick) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('scheduled-open').click();
  const form = page.getByRole('dialog', { name: 'Отправить позже' });
  await pick(form);
  await form.getByRole('button', { name: 'Запланировать' }).click();
  await form.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('composer').inputValue(), '', 'the composer is emptied');
}

test('a teacher schedules from the composer, sees the list, edits one and cancels another', async () => {
  const t = people.teacher.page;
  await openChat(t, CHAT);

  // On a phone the clock shows once there is a text to schedule.
  assert.equal(await t.getByTestId('scheduled-open').isVisible(), false);

  await scheduleFromComposer(t, 'Собрание в четверг в 18:00', async (form) => {
    await form.getByTestId('scheduled-choice').filter({ hasText: 'Завтра в 08:00' }).click();
    await screenshot(t, 'scheduled-picker-phone');
  });
  await t.getByTestId('scheduled-strip').filter({ hasText: 'Запланировано: 1' }).waitFor();
  const later = await localAt(t, 2, 10);
  await scheduleFromComposer(t, 'Не забудьте сменную обувь', (form) => form.getByTestId('scheduled-when').fill(later));
  await t.getByTestId('scheduled-strip').filter({ hasText: 'Запланировано: 2' }).waitFor();
  assert.equal(await message(t, 'Собрание в четверг').count(), 0, 'nothing is sent yet');

  await t.getByTestId('scheduled-strip').click();
  const list = t.getByRole('dialog', { name: 'Запланированные сообщения' });
  await list.getByTestId('scheduled-item').nth(1).waitFor();
  const first = list.getByTestId('scheduled-item').filter({ hasText: 'Собрание в четверг в 18:00' });
  await first.getByText('Отправка').waitFor();
  await screenshot(t, 'scheduled-list-phone');
  const w = await t.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(w <= 360, `scrollWidth ${w} > 360`);

  await first.getByTestId('scheduled-edit').click();
  const edit = t.getByRole('dialog', { name: 'Изменить запланированное' });
  await edit.getByTestId('scheduled-text').fill('Собрание в четверг в 19:00');
  await edit.getByRole('button', { name: 'Сохранить' }).click();
  await edit.waitFor({ state: 'detached' });
  await list.getByTestId('scheduled-item').filter({ hasText: 'Собрание в четверг в 19:00' }).waitFor();

  await list.getByTestId('scheduled-item').filter({ hasText: 'сменную обувь' }).getByTestId('scheduled-cancel').click();
  await t.getByRole('dialog', { name: 'Отменить отправку?' }).getByRole('button', { name: 'Отменить отправку' }).click();
  await list.getByTestId('scheduled-item').filter({ hasText: 'сменную обувь' }).waitFor({ state: 'detached' });
  assert.equal(await list.getByTestId('scheduled-item').count(), 1);
  await list.getByRole('button', { name: 'Закрыть' }).click();
  await t.getByTestId('scheduled-strip').filter({ hasText: 'Запланировано: 1' }).waitFor();
  assert.deepEqual(people.teacher.problems, []);
});

test('a message scheduled through scheduleMessage goes out at its time and the parent receives it', async () => {
  const t = people.teacher.page;
  const m = people.mother.page;
  await openChat(m, CHAT);
  const chat = Number(await t.locator('.pm-conv').getAttribute('data-chat'));
  const made = await t.evaluate(async (id) => {
    const { scheduleMessage } = await import('/assets/chat/scheduled.js');
    return scheduleMessage(id, 'Напоминаю: завтра экскурсия', Date.now() / 1000 + 2);
  }, chat);
  assert.equal(made.state, 'pending');
  await t.getByTestId('scheduled-strip').filter({ hasText: 'Запланировано: 2' }).waitFor();
  await message(m, 'Напоминаю: завтра экскурсия').waitFor({ timeout: 15_000 });
  await message(t, 'Напоминаю: завтра экскурсия').waitFor();
  // Sent: the strip counts only the edited one again.
  await t.getByTestId('scheduled-strip').filter({ hasText: 'Запланировано: 1' }).waitFor();
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
});
