// Parta Мессенджер on its own: registering a Parta ID, signing out and in,
// and the account settings (password, sessions, phone number, deletion).
//
// This file asks for 4 codes (limits: 1 a minute and 5 an hour per phone, 20
// an hour per address).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage } from '../lib/server.mjs';
import { enterPhone, enterCode, demoCode, registerInMessenger } from '../lib/partaid.mjs';

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

test('register, sign out, and sign in again: a spent code is replaced at once, its demo hint gone, then the resend counts down', async () => {
  const { page, context, problems } = await newPage(browser, server.url, { expectStatuses: [400] });
  try {
    await page.goto('/messenger');
    await page.getByRole('heading', { level: 1, name: 'Parta Мессенджер' }).waitFor();
    await page.getByText('Используйте Parta ID, чтобы начать общение').waitFor();

    await registerInMessenger(page, { phone: '+7 912 000-00-05', lastName: 'Петрова', firstName: 'Анна', middleName: 'Сергеевна' });
    await page.getByRole('heading', { level: 2, name: 'Здравствуйте, Анна Сергеевна!' }).waitFor();
    await page.getByTestId('no-profile').getByText('Учебного профиля пока нет').waitFor();
    await page.getByText('Чатов пока нет').waitFor();

    await page.getByRole('banner').getByRole('button', { name: 'Выйти' }).click();
    await page.getByRole('link', { name: 'Войти', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Вход в Parta ID' }).waitFor();
    await enterPhone(page, '89120000005');
    // The registration's code was used: a new one comes at once, no minute's wait.
    await page.getByRole('heading', { level: 1, name: 'Введите код из SMS' }).waitFor();
    await page.getByText('Мы отправили код на номер +7 912 000-00-05.').waitFor();
    const right = await demoCode(page);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i += 1) await enterCode(page, wrong);
    // Burned: its hint goes, and a new code may be asked for now.
    await page.getByTestId('code-error').getByText('Слишком много неверных попыток. Запросите новый код.').waitFor();
    assert.equal(await page.getByTestId('demo-code').count(), 0);
    const resend = page.getByTestId('resend');
    assert.equal(await resend.isDisabled(), false);
    assert.equal(await resend.textContent(), 'Отправить код ещё раз');
    await resend.click();
    await page.getByText('Новый код отправлен на номер +7 912 000-00-05.').waitFor();
    // A fresh code: the next one in a minute.
    assert.equal(await resend.isDisabled(), true);
    assert.match(await resend.textContent(), /^Новый код через [01]:\d\d$/);
    await enterCode(page);
    await page.getByRole('heading', { level: 2, name: 'Здравствуйте, Анна Сергеевна!' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('settings: set a password, sign in with it from a second browser, see two sessions and end the other one', async () => {
  const first = await newPage(browser, server.url);
  const second = await newPage(browser, server.url);
  try {
    const { page } = first;
    await registerInMessenger(page, { phone: '+7 912 000-00-06', lastName: 'Ким', firstName: 'Олег' });
    await page.getByRole('link', { name: 'Настройки' }).click();
    await page.getByRole('heading', { level: 1, name: 'Настройки' }).waitFor();
    assert.equal(await page.getByTestId('account-phone').textContent(), '+7 912 000-00-06');
    await page.getByText('Пароль не задан: вы входите по коду из SMS.').waitFor();

    await page.getByRole('button', { name: 'Задать пароль' }).click();
    const dialog = page.getByRole('dialog', { name: 'Задать пароль' });
    await dialog.getByLabel('Новый пароль', { exact: true }).fill('short');
    await dialog.getByLabel('Повторите новый пароль').fill('short');
    await dialog.getByRole('button', { name: 'Сохранить' }).click();
    await dialog.getByText('Пароль должен быть не короче 8 символов.').waitFor();
    await dialog.getByLabel('Новый пароль', { exact: true }).fill('olegs-password');
    await dialog.getByLabel('Повторите новый пароль').fill('olegs-password');
    await dialog.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByTestId('password-state').getByText('Пароль задан', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Сменить пароль' }).waitFor();

    // The second browser signs in with the password: no code needed.
    const p2 = second.page;
    await p2.goto('/messenger');
    await p2.getByRole('link', { name: 'Войти' }).click();
    await p2.getByLabel('Номер телефона').fill('+7 912 000-00-06');
    await p2.getByRole('button', { name: 'У меня есть пароль Parta ID' }).click();
    await p2.getByLabel('Пароль Parta ID').fill('olegs-password');
    await p2.getByRole('button', { name: 'Продолжить' }).click();
    await p2.getByRole('heading', { level: 2, name: 'Здравствуйте, Олег!' }).waitFor();

    await page.reload();
    const rows = page.getByTestId('session-list').getByRole('listitem');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const current = page.locator('.session-row[data-current="true"]');
    await current.getByText('этот сеанс').waitFor();
    await current.getByText('Chrome на Linux').waitFor();
    assert.equal(await current.getByRole('button', { name: /^Завершить/ }).count(), 0);
    const other = page.locator('.session-row[data-current="false"]');
    await other.getByRole('button', { name: 'Завершить сеанс: Chrome на Linux' }).click();
    await page.getByRole('status').getByText('Сеанс завершён.').waitFor();
    assert.equal(await rows.count(), 1);

    // The other browser is signed out.
    await p2.reload();
    await p2.getByRole('link', { name: 'Войти' }).waitFor();

    assert.deepEqual(first.problems, []);
    assert.deepEqual(second.problems, []);
  } finally {
    await first.context.close();
    await second.context.close();
  }
});

test('settings: change the phone number with a code sent to the new one, then delete the Parta ID', async () => {
  // Signing in with the deleted number answers 404 no_account, on purpose.
  const { page, context, problems } = await newPage(browser, server.url, { expectStatuses: [404] });
  try {
    await registerInMessenger(page, { phone: '+7 912 000-00-07', lastName: 'Орлов', firstName: 'Пётр', password: 'petr-password' });
    await page.getByRole('link', { name: 'Настройки' }).click();
    await page.getByRole('button', { name: 'Изменить номер' }).click();
    await page.getByRole('heading', { name: 'Новый номер телефона' }).waitFor();
    // Its own number is not a new one.
    await enterPhone(page, '+7 912 000-00-07');
    await page.getByText('Это ваш текущий номер.').waitFor();
    await enterPhone(page, '+7 912 000-00-08');
    await enterCode(page);
    await page.getByRole('status').getByText('Номер телефона изменён.').waitFor();
    assert.equal(await page.getByTestId('account-phone').textContent(), '+7 912 000-00-08');

    await page.getByRole('button', { name: 'Удалить Parta ID' }).click();
    const dialog = page.getByRole('dialog', { name: 'Удалить Parta ID?' });
    await dialog.getByText('«Удалённый пользователь»', { exact: false }).waitFor();
    await dialog.getByRole('button', { name: 'Удалить навсегда' }).click();
    await page.getByRole('status').getByText('Parta ID удалён.').waitFor();
    await page.getByRole('link', { name: 'Зарегистрироваться' }).waitFor();

    // Nobody can sign in with that number any more: told once the code proves it.
    await page.getByRole('link', { name: 'Войти', exact: true }).click();
    await enterPhone(page, '+7 912 000-00-08');
    await enterCode(page);
    await page.getByRole('heading', { level: 1, name: 'Parta ID не найден' }).waitFor();
    await page.getByRole('button', { name: 'Зарегистрироваться' }).click();
    // The number is proven already: straight to «Информация о себе».
    await page.getByRole('heading', { level: 1, name: 'Информация о себе' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
