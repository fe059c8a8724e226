// School quiet hours (issue 19): the director sets quiet hours covering the
// whole of today (UTC) in «Тихие часы»; the class teacher of 5А, writing in
// «Родители 5А», sees «Сейчас тихие часы школы: уведомления придут в 00:00»
// and «Отправить утром», which asks the server to send the message when
// they end; and, as the chat's admin, the «Срочно» toggle, whose message
// shows the red badge. Asks for one code.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { message, openChat, send } from '../lib/chat.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

test('an administrator sets quiet hours, and the composer offers to send in the morning', async () => {
  // The overlapping periods are refused on purpose (400). The scheduled-messages
  // endpoint comes with another change: until it is merged its 404 is expected
  // here; the request itself is what is checked.
  const director = await newPage(browser, server.url, { expectStatuses: [400] });
  const teacher = await newPage(browser, server.url, { width: 360, height: 740, expectStatuses: [404] });
  try {
    const d = director.page;
    const admin = account(server.accounts, 'administrator', 'Школа № 17');
    await signIn(d, admin.login, admin.password);
    await d.getByRole('link', { name: /Состав школы/ }).first().click();
    await d.getByRole('link', { name: 'Тихие часы' }).click();
    await d.getByRole('heading', { level: 1, name: 'Тихие часы' }).waitFor();
    assert.equal(await d.getByTestId('quiet-zone').inputValue(), 'Europe/Moscow');
    assert.equal(await d.getByTestId('quiet-period').count(), 5, 'weekday evenings and the weekend');
    assert.ok(await d.getByTestId('quiet-kind-parents').isChecked());
    assert.ok(!(await d.getByTestId('quiet-kind-staff_room').isChecked()));

    // An overlapping period is refused, naming the two.
    await d.getByTestId('quiet-add').click();
    await d.getByTestId('quiet-save').click();
    await d.getByTestId('quiet-error').filter({ hasText: 'пересекаются: пн 19:00–08:00 и пн 19:00–08:00' }).waitFor();

    // The whole of today, on UTC's clock.
    const now = new Date();
    const today = DAYS[now.getUTCDay()];
    const tomorrow = DAYS[(now.getUTCDay() + 1) % 7];
    while (await d.getByTestId('quiet-period').count()) {
      await d.getByTestId('quiet-period').first().getByRole('button', { name: 'Удалить' }).click();
    }
    await d.getByTestId('quiet-add').click();
    const period = d.getByTestId('quiet-period');
    await period.getByTestId('quiet-from-day').selectOption(today);
    await period.getByTestId('quiet-from').fill('00:00');
    await period.getByTestId('quiet-to-day').selectOption(tomorrow);
    await period.getByTestId('quiet-to').fill('00:00');
    await d.getByTestId('quiet-zone').fill('UTC');
    await d.getByTestId('quiet-save').click();
    await d.getByRole('status').filter({ hasText: 'Тихие часы сохранены.' }).waitFor();
    await screenshot(d, 'quiet-hours-admin');

    const t = teacher.page;
    await linkAndOpenMessenger(t, { login: 'donskaya.ef', phone: '+7 912 430-00-01' });
    await openChat(t, 'Родители 5А');
    const banner = t.getByTestId('quiet-banner');
    await banner.filter({ hasText: 'Сейчас тихие часы школы: уведомления придут в 00:00' }).waitFor();
    await t.getByTestId('composer').fill('Завтра собрание в 18:00');
    const [request] = await Promise.all([
      t.waitForRequest((r) => r.method() === 'POST' && /\/api\/messenger\/chats\/\d+\/scheduled$/.test(r.url())),
      banner.getByRole('button', { name: 'Отправить утром' }).click(),
    ]);
    const body = request.postDataJSON();
    assert.equal(body.text, 'Завтра собрание в 18:00');
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) / 1000;
    assert.equal(body.send_at, midnight, 'when the quiet hours end');
    assert.ok(body.client_id, 'an idempotency key');
    await screenshot(t, 'quiet-hours-composer-phone');

    // «Срочно», a chat admin's: the message carries the badge.
    await t.getByTestId('composer').fill('');
    await t.getByTestId('urgent-toggle').click();
    assert.equal(await t.getByTestId('urgent-toggle').getAttribute('aria-pressed'), 'true');
    await send(t, 'Завтра занятий нет');
    await message(t, 'Завтра занятий нет').getByTestId('urgent-badge').filter({ hasText: 'Срочно' }).waitFor();
    assert.equal(await t.getByTestId('urgent-toggle').getAttribute('aria-pressed'), 'false', 'one message at a time');
    assert.deepEqual(director.problems, []);
    assert.deepEqual(teacher.problems, []);
  } finally {
    await director.context.close();
    await teacher.context.close();
  }
});
