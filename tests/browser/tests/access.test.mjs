// Signing in, and what people who are not administrators can and cannot see.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account } from '../lib/server.mjs';

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

test('the sign-in page is in Russian and lists the demo accounts to fill in', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Вход в школьный портал' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');
    const demo = page.getByRole('complementary', { name: 'Демо-доступ' });
    assert.equal(await demo.getByRole('listitem').count(), server.accounts.length);
    const admin = account(server.accounts, 'administrator');
    await demo.getByRole('button', { name: new RegExp(admin.name) }).click();
    assert.equal(await page.getByLabel('Логин', { exact: true }).inputValue(), admin.login);
    assert.equal(await page.getByLabel('Пароль', { exact: true }).inputValue(), admin.password);
    await page.getByRole('button', { name: 'Войти', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the sign-in form works with the keyboard alone', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'teacher');
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Вход в школьный портал' }).waitFor();
    // The login field has the focus when the page opens.
    await page.waitForFunction(() => document.activeElement?.name === 'login');
    await page.keyboard.type(a.login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(a.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a wrong password shows the Russian error message', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'guardian');
    await page.goto('/');
    // Empty fields are caught before asking the server.
    await page.getByRole('button', { name: 'Войти', exact: true }).click();
    await page.getByText('Введите логин.').waitFor();
    await signIn(page, a.login, 'not-the-password');
    const alert = page.getByTestId('login-error');
    await alert.getByText('Неверный логин или пароль.').waitFor();
    assert.equal(await alert.getAttribute('role'), 'alert');
    // Still on the sign-in page, and the same error reads in English after switching.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to the school portal' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Enter your password.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill('still-wrong');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('login-error').getByText('Wrong login or password.').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a student signs in, sees no roster link, and the roster API answers 403', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'student');
    const first = a.name.split(' ')[1];
    await signIn(page, a.login, a.password);
    await page.getByRole('heading', { level: 1, name: `Привет, ${first}!` }).waitFor();
    await page.locator('.org-card', { hasText: 'Школа № 17' }).getByText('Ученик').waitFor();
    assert.equal(await page.getByRole('link', { name: /Состав школы/ }).count(), 0);
    assert.equal(await page.getByRole('switch').count(), 0);

    const me = await (await page.request.get('/api/me')).json();
    const school = me.roles.find((r) => r.org_name === 'Школа № 17');
    const res = await page.request.get(`/api/orgs/${school.org_id}/classes`);
    assert.equal(res.status(), 403);
    const body = await res.json();
    assert.equal(body.code, 'forbidden');

    // Typing the roster address shows an explanation, not a broken page.
    await page.goto('/#/roster');
    await page.getByText('Состав школы видят только администраторы.').waitFor();
    await page.goto(`/#/roster/${school.org_id}`);
    await page.getByText(body.message).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a parent sees their roles in each organisation and whether chats are available there', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'guardian');
    await signIn(page, a.login, a.password);
    await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    assert.equal(await page.getByRole('link', { name: /Состав школы/ }).count(), 0);
    const school = page.locator('.org-card', { hasText: 'Школа № 17' });
    await school.getByText('Родитель').waitFor();
    await school.getByText('Чаты подключены').waitFor();
    const cards = await page.locator('.org-card').count();
    if (cards > 1) {
      const other = page.locator('.org-card', { hasText: 'Другая организация' });
      await other.getByText('Чатов нет').waitFor();
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('signing out ends the session on the server', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'other_staff');
    await signIn(page, a.login, a.password);
    await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    await page.locator('.org-card').getByText('Сотрудник').waitFor();
    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.getByRole('heading', { level: 1, name: 'Вход в школьный портал' }).waitFor();
    assert.equal((await page.request.get('/api/me')).status(), 401);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Вход в школьный портал' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the administrator of a school with chats switched off is told so', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    const a = account(server.accounts, 'administrator', 'Гимназия № 5');
    await signIn(page, a.login, a.password);
    const card = page.locator('.org-card', { hasText: 'Гимназия № 5' });
    await card.getByText('Чаты выключены').waitFor();
    assert.equal(await card.getByRole('switch', { name: 'Модуль «Чаты»' }).getAttribute('aria-checked'), 'false');
    await card.getByRole('link', { name: /Состав школы/ }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
