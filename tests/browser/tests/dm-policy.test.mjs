// An administrator tightens the school's direct-message rules in the portal.

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

test('an administrator forbids students to start direct messages with each other, and the rule is kept', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const admin = account(server.accounts, 'administrator', 'Школа № 17');
    await signIn(page, admin.login, admin.password);
    await page.getByRole('link', { name: /Состав школы/ }).first().click();
    await page.getByRole('link', { name: 'Личные сообщения' }).click();
    await page.getByRole('heading', { level: 1, name: 'Правила личных сообщений' }).waitFor();

    const students = page.getByRole('region', { name: 'Ученик пишет первым' });
    const toStudent = students.getByLabel('Ученик', { exact: true });
    assert.equal(await toStudent.inputValue(), 'shared_class', 'by default, classmates only');
    assert.equal(await students.getByLabel('Учитель', { exact: true }).inputValue(), 'allowed');
    const parents = page.getByRole('region', { name: 'Родитель пишет первым' });
    assert.equal(await parents.getByLabel('Ученик', { exact: true }).inputValue(), 'family');

    await toStudent.selectOption({ label: 'нельзя' });
    await page.getByRole('button', { name: 'Сохранить правила' }).click();
    await page.getByRole('status').filter({ hasText: 'Правила сохранены.' }).waitFor();

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Правила личных сообщений' }).waitFor();
    const kept = page.getByRole('region', { name: 'Ученик пишет первым' }).getByLabel('Ученик', { exact: true });
    assert.equal(await kept.inputValue(), 'never');
    await screenshot(page, 'dm-policy-desktop');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'dm-policy-phone');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
