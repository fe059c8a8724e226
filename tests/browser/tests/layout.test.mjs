// The portal on a 360 px phone and on a desktop: no horizontal scrolling, and
// screenshots of the main pages in test-results/ for a human to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account, screenshot } from '../lib/server.mjs';

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
  { tag: 'desktop', width: 1280, height: 860 },
  { tag: 'phone', width: 360, height: 740 },
];

async function scrollWidth(page) {
  return page.evaluate(() => document.scrollingElement.scrollWidth);
}

for (const size of SIZES) {
  test(`the login, home, roster, class and person pages fit a ${size.width}×${size.height} screen without horizontal scroll`, async () => {
    const { page, context, problems } = await newPage(browser, server.url, size);
    const fits = async (what) => {
      const w = await scrollWidth(page);
      assert.ok(w <= size.width, `${what}: scrollWidth ${w} > ${size.width}`);
    };
    try {
      await page.goto('/');
      await page.getByRole('heading', { level: 1, name: 'Вход в школьный портал' }).waitFor();
      await fits('login');
      await screenshot(page, `login-${size.tag}`);

      const admin = account(server.accounts, 'administrator', 'Школа № 17');
      await signIn(page, admin.login, admin.password);
      await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
      await fits('home');
      await screenshot(page, `home-${size.tag}`);

      await page.getByRole('link', { name: /Состав школы/ }).click();
      await page.locator('.class-card[data-class="5А"]').waitFor();
      await fits('roster');
      await screenshot(page, `roster-${size.tag}`);

      await page.locator('.class-card[data-class="5А"]').click();
      await page.getByRole('heading', { level: 1, name: '5А' }).waitFor();
      await page.locator('.student').first().waitFor();
      await fits('class');
      await screenshot(page, `class-${size.tag}`);

      await page.locator('.student .student-name').first().click();
      await page.locator('.person-card').waitFor();
      await fits('person');
      await screenshot(page, `person-${size.tag}`);

      await page.getByRole('button', { name: 'English' }).click();
      await page.getByRole('button', { name: 'Edit details' }).waitFor();
      await fits('person in English');

      await page.goto('/#/');
      await page.getByRole('heading', { level: 1, name: /^Hello, / }).waitFor();
      await fits('home in English');
      await screenshot(page, `home-en-${size.tag}`);

      // Tap targets: every button and link in the header is at least 36 px tall.
      const small = await page.locator('.topbar button, .topbar a').evaluateAll((els) =>
        els.filter((el) => el.getBoundingClientRect().height < 36).map((el) => el.textContent));
      assert.deepEqual(small, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
