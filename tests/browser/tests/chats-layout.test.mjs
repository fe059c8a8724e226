// The "Чаты" window and the messenger page on a 360 px phone and on a desktop:
// no horizontal scrolling, and screenshots of every step in test-results/.
// Asks for 2 codes (one per screen size, each on its own number).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, screenshot } from '../lib/server.mjs';
import { enterPhone, enterCode } from '../lib/partaid.mjs';

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

const SIZES = [
  { tag: 'phone', width: 360, height: 740, phone: '+7 912 000-00-11', login: 'malysheva.kd' },
  { tag: 'desktop', width: 1280, height: 860, phone: '+7 912 000-00-12', login: 'donskaya.ef' },
];

for (const size of SIZES) {
  test(`the Чаты window and the messenger page fit a ${size.width}×${size.height} screen without horizontal scroll`, async () => {
    const { page, context, problems } = await newPage(browser, server.url, size);
    const shot = async (what) => {
      await screenshot(page, `${what}-${size.tag}`);
      const w = await page.evaluate(() => document.scrollingElement.scrollWidth);
      assert.ok(w <= size.width, `${what}: scrollWidth ${w} > ${size.width}`);
    };
    // The toast goes away by itself after a few seconds; wait so it covers nothing.
    const toastGone = () => page.waitForFunction(() => getComputedStyle(document.getElementById('status')).opacity === '0', null, { timeout: 8000 });
    try {
      await signIn(page, size.login, 'parta2026');
      await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
      await page.getByRole('banner').getByRole('link', { name: 'Чаты' }).click();
      await page.getByRole('button', { name: 'Привязать учебный профиль' }).waitFor();
      await shot('chats-intro');

      await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
      await page.getByLabel('Номер телефона').waitFor();
      await shot('chats-phone');

      await enterPhone(page, size.phone);
      await page.getByTestId('demo-code').waitFor();
      await shot('chats-code');

      await enterCode(page);
      await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
      await shot('chats-about');

      await page.getByRole('button', { name: 'Продолжить' }).click();
      await page.getByTestId('chats-linked').waitFor();
      await toastGone();
      await shot('chats-linked');

      await page.getByRole('button', { name: 'Отвязать учебный профиль' }).click();
      await page.getByRole('dialog').waitFor();
      await shot('chats-unlink-dialog');
      await page.getByRole('dialog').getByRole('button', { name: 'Оставить' }).click();

      await page.getByRole('button', { name: 'English' }).click();
      await page.getByRole('button', { name: 'Open Parta Messenger' }).waitFor();
      await shot('chats-linked-en');
      await page.getByRole('button', { name: 'Русский', exact: true }).click();

      await page.getByRole('button', { name: 'Перейти в Parta Мессенджер' }).click();
      // The messenger opens on the chat list; the profile and its schools are beside (on a phone: under) it.
      await page.getByRole('heading', { level: 1, name: 'Чаты' }).waitFor();
      await page.getByTestId('chat-row').first().waitFor();
      await page.getByTestId('schools').waitFor();
      await shot('messenger-home');

      await page.getByRole('link', { name: 'Настройки' }).click();
      await page.getByTestId('session-list').waitFor();
      await shot('messenger-settings');

      // Signed out: the welcome screen and the sign-in steps.
      await page.getByRole('banner').getByRole('button', { name: 'Выйти' }).click();
      // The portal is open in this browser too: one sign-out is offered for both.
      const both = page.getByRole('dialog', { name: 'Выйти и из школьного портала?' });
      await both.waitFor();
      await shot('messenger-signout-both');
      await both.getByRole('button', { name: 'Выйти из обоих' }).click();
      await page.getByRole('link', { name: 'Зарегистрироваться' }).waitFor();
      await toastGone();
      await shot('messenger-welcome');

      await page.getByRole('link', { name: 'Войти', exact: true }).click();
      await page.getByLabel('Номер телефона').waitFor();
      await shot('messenger-signin');

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
