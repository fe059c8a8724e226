// The "Чаты" window of the school portal (manual §2.1): linking a learning
// profile with a new or an existing Parta ID, «Перейти в Parta Мессенджер»,
// unlinking, and schools where chats are not available.
//
// Codes are limited per phone (1 a minute, 5 an hour) and per address (20 an
// hour): every test uses its own number, and this file asks for 5 codes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn } from '../lib/server.mjs';
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

const PASSWORD = 'parta2026';

/** The names in the «Ваши чаты» list, in the order shown. */
async function chatNames(page) {
  await page.getByTestId('chat-list').waitFor();
  return page.getByTestId('chat-list').locator('.chat-name').allTextContents();
}

async function openChats(page, login) {
  await signIn(page, login, PASSWORD);
  await page.getByRole('heading', { level: 1, name: /^(Здравствуйте|Привет), / }).waitFor();
  const chats = page.getByRole('banner').getByRole('link', { name: 'Чаты' });
  assert.equal(await chats.getAttribute('title'), 'Чаты');
  await chats.click();
  await page.getByRole('heading', { level: 1, name: 'Чаты' }).waitFor();
}

test('a parent links a new learning profile: phone → code → about me → linked, with her name and masked phone', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    await openChats(page, 'malysheva.kd');
    // She has roles in two organisations: the school is picked first, the music school is a tab.
    const tabs = page.getByRole('navigation', { name: 'Организации' });
    assert.equal(await tabs.getByRole('link', { name: 'Школа № 17' }).getAttribute('aria-current'), 'page');
    await page.getByText('Привязка делается один раз.', { exact: false }).waitFor();

    await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
    await page.getByRole('heading', { level: 2, name: 'Привязать учебный профиль' }).waitFor();
    // The number field has the focus.
    await page.waitForFunction(() => document.activeElement?.name === 'phone');
    await enterPhone(page, '+7 912 000-00-01');
    await page.getByText('Мы отправили код на номер +7 912 000-00-01.').waitFor();
    const code = page.getByLabel('Код из SMS');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    // The resend button counts down.
    assert.match(await page.getByTestId('resend').textContent(), /Новый код через 0:5\d|1:00/);
    assert.equal(await page.getByTestId('resend').isDisabled(), true);
    await enterCode(page);

    await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
    assert.equal(await page.getByLabel('Фамилия').inputValue(), 'Малышева');
    assert.equal(await page.getByLabel('Имя', { exact: true }).inputValue(), 'Карина');
    assert.equal(await page.getByLabel(/^Отчество/).inputValue(), 'Дмитриевна');
    await page.getByRole('button', { name: 'Продолжить' }).click();

    const linked = page.getByTestId('chats-linked');
    await linked.waitFor();
    assert.equal(await page.getByTestId('profile-name').textContent(), 'Малышева Карина Дмитриевна');
    assert.equal(await page.getByTestId('profile-phone').textContent(), 'Телефон: +7 912 ***-**-01');
    // Exactly her chats: the parents' chat of her daughter's class.
    assert.deepEqual(await chatNames(page), ['Родители 5А']);
    await linked.getByRole('button', { name: 'Перейти в Parta Мессенджер' }).waitFor();
    await linked.getByRole('button', { name: 'Отвязать учебный профиль' }).waitFor();
    // A parent does not manage chats.
    assert.equal(await page.getByRole('link', { name: 'Управление чатами' }).count(), 0);

    // The music school is not a general education school.
    await tabs.getByRole('link', { name: 'Детская музыкальная школа № 3' }).click();
    await page.getByText('Чаты доступны только в общеобразовательных организациях.').waitFor();

    // Still linked after a reload.
    await page.goto('/#/chats');
    await page.getByTestId('profile-name').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a person with a Parta ID from the messenger links it by password: told whose number it is, «Это я» → linked under her own name, renamed only by her in the messenger', async () => {
  const messenger = await newPage(browser, server.url);
  const portal = await newPage(browser, server.url);
  try {
    await registerInMessenger(messenger.page, {
      phone: '8 912 000-00-02', lastName: 'Донская', firstName: 'Эля', password: 'my-own-pass-1',
    });
    // No learning profile yet: the messenger says how to get school chats.
    await messenger.page.getByTestId('no-profile').getByText('«Привязать учебный профиль»', { exact: false }).waitFor();

    const { page } = portal;
    await openChats(page, 'donskaya.ef');
    await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
    // The password is offered to every number alike: it says nothing about this one.
    await page.getByLabel('Номер телефона').fill('+79120000002');
    await page.getByRole('button', { name: 'У меня есть пароль Parta ID' }).click();
    await page.getByRole('heading', { name: 'Вход с паролем' }).waitFor();
    await page.getByLabel('Пароль Parta ID').fill('my-own-pass-1');
    await page.getByRole('button', { name: 'Продолжить' }).click();

    // Only now, with the phone proven, is its Parta ID named — masked.
    await page.getByRole('heading', { name: 'Этот номер уже используется' }).waitFor();
    await page.getByTestId('in-use').getByText('Эля Д.').waitFor();
    await page.getByRole('button', { name: 'Это я — добавить эту учётную запись в мой Parta ID' }).click();

    await page.getByTestId('chats-linked').waitFor();
    // Her Parta ID keeps its name: a link never renames it.
    assert.equal(await page.getByTestId('profile-name').textContent(), 'Донская Эля');
    assert.equal(await page.getByTestId('profile-phone').textContent(), 'Телефон: +7 912 ***-**-02');
    // The class teacher of 5А who teaches Russian and literature in 5А and 5Б.
    assert.deepEqual(await chatNames(page), [
      'Учительская', '5А класс', 'Родители 5А',
      'Литература 5А', 'Литература 5Б', 'Русский язык 5А', 'Русский язык 5Б',
    ]);

    // A teacher manages the chats she is an admin of: her class's, not the staff room.
    await page.getByRole('link', { name: 'Управление чатами' }).click();
    await page.getByRole('heading', { level: 1, name: 'Управление чатами' }).waitFor();
    await page.getByTestId('manage-list').locator('[data-chat="5А класс"]').waitFor();
    assert.equal(await page.getByTestId('manage-list').locator('[data-chat="Учительская"]').count(), 0);
    await page.getByRole('navigation', { name: 'Назад' }).getByRole('link', { name: 'Чаты' }).click();
    await page.getByTestId('chats-linked').waitFor();

    // The messenger now shows the profile and the school; she writes her full
    // name for the school herself, in the messenger's settings.
    await messenger.page.reload();
    await messenger.page.getByTestId('profile').getByText('Донская Эля').waitFor();
    await messenger.page.getByTestId('schools').getByText('Школа № 17').waitFor();
    await messenger.page.getByRole('link', { name: 'Настройки' }).click();
    await messenger.page.getByTestId('rename').click();
    const rename = messenger.page.getByRole('dialog', { name: 'Имя в Parta ID' });
    await rename.getByLabel('Имя', { exact: true }).fill('Эльмира');
    await rename.getByLabel(/^Отчество/).fill('Филимоновна');
    await rename.getByRole('button', { name: 'Сохранить' }).click();
    await messenger.page.getByTestId('account-name').getByText('Донская Эльмира Филимоновна').waitFor();
    await page.reload();
    await page.getByTestId('profile-name').getByText('Донская Эльмира Филимоновна').waitFor();

    assert.deepEqual(messenger.problems, []);
    assert.deepEqual(portal.problems, []);
  } finally {
    await messenger.context.close();
    await portal.context.close();
  }
});

test('«Перейти в Parta Мессенджер» signs in to the messenger; after unlinking in the portal, reloading the messenger shows the sign-in screen', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    await openChats(page, 'sergeev.vr');
    await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
    await enterPhone(page, '+7 912 000-00-03');
    await enterCode(page);
    await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
    await page.getByRole('button', { name: 'Продолжить' }).click();
    await page.getByTestId('chats-linked').waitFor();
    await page.getByRole('link', { name: 'Управление чатами' }).waitFor();

    await page.getByRole('button', { name: 'Перейти в Parta Мессенджер' }).click();
    await page.waitForURL(/\/messenger/);
    await page.getByRole('heading', { level: 2, name: 'Здравствуйте, Владимир Русланович!' }).waitFor();
    // The one-time token does not stay in the address bar.
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(new URL(page.url()).pathname, '/messenger');
    await page.getByTestId('profile').getByText('Сергеев Владимир Русланович').waitFor();
    await page.getByTestId('schools').getByText('Школа № 17').waitFor();
    // The director's chat: the staff room.
    assert.deepEqual(await page.getByTestId('chats').locator('.pm-row-name').allTextContents(), ['Учительская']);

    // The session is listed as one from the school portal.
    await page.getByRole('link', { name: 'Настройки' }).click();
    const session = page.getByTestId('session-list').getByRole('listitem');
    await session.first().waitFor();
    assert.equal(await session.count(), 1);
    await session.getByText('этот сеанс').waitFor();
    await session.getByText('из школьного портала').waitFor();

    // Back to the portal: unlink, after reading what it does.
    await page.goto('/#/chats');
    await page.getByRole('button', { name: 'Отвязать учебный профиль' }).click();
    const dialog = page.getByRole('dialog', { name: 'Отвязать учебный профиль?' });
    await dialog.getByText('Вы сразу выйдете из всех чатов организации «Школа № 17»', { exact: false }).waitFor();
    await dialog.getByText('сеансы Parta Мессенджера, открытые со школьного портала, завершатся', { exact: false }).waitFor();
    // The two buttons say what they do.
    await dialog.getByRole('button', { name: 'Оставить' }).waitFor();
    await dialog.getByRole('button', { name: 'Отвязать профиль' }).click();
    await page.getByRole('button', { name: 'Привязать учебный профиль' }).waitFor();
    await page.getByRole('status').getByText('Учебный профиль отвязан.').waitFor();

    // The messenger session came from the link: it has ended.
    await page.goto('/messenger');
    await page.getByRole('heading', { level: 1, name: 'Parta Мессенджер' }).waitFor();
    await page.getByText('Используйте Parta ID, чтобы начать общение').waitFor();
    await page.getByRole('link', { name: 'Войти' }).waitFor();
    await page.getByRole('link', { name: 'Зарегистрироваться' }).waitFor();

    // A used or made-up sign-in link says so plainly.
    await page.goto('/messenger#token=0123456789abcdef');
    await page.getByTestId('welcome-error').getByText('Ссылка для входа устарела или уже использована.', { exact: false }).waitFor();
    assert.equal(new URL(page.url()).hash, '');

    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('the administrators of a school with chats off and of a music school see why, and no link button', async () => {
  for (const [login, text] of [
    ['malysheva.ik', 'В этой школе модуль «Чаты» не подключён.'],
    ['mikhaylov.gs', 'Чаты доступны только в общеобразовательных организациях.'],
  ]) {
    const { page, context, problems } = await newPage(browser, server.url);
    try {
      await openChats(page, login);
      await page.getByTestId('chats-unavailable').getByText(text).waitFor();
      assert.equal(await page.getByRole('main').getByRole('button').count(), 0, login);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  }
});

test('a wrong code shows the error with the remaining attempts', async () => {
  const { page, context, problems } = await newPage(browser, server.url, { expectStatuses: [400] });
  try {
    await openChats(page, 'malysheva.ev');
    await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
    // A landline gets the server's explanation.
    await enterPhone(page, '+7 495 123-45-67');
    await page.getByText('Нужен номер мобильного телефона: на него придёт SMS с кодом.').waitFor();
    await enterPhone(page, '+7 912 000-00-04');
    const right = await demoCode(page);
    const wrong = right === '000000' ? '111111' : '000000';
    await enterCode(page, wrong);
    const error = page.getByTestId('code-error');
    await error.getByText('Неверный код. Осталось попыток: 4.').waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(await page.getByLabel('Код из SMS').getAttribute('aria-invalid'), 'true');
    await enterCode(page, wrong);
    await error.getByText('Неверный код. Осталось попыток: 3.').waitFor();
    // The right code still works.
    await enterCode(page, right);
    await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
    assert.equal(await page.getByLabel('Имя', { exact: true }).inputValue(), 'Ева');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a student who links finds exactly her class and subject chats, and no parents chat', async () => {
  const { page, context, problems } = await newPage(browser, server.url);
  try {
    await openChats(page, 'malysheva.ev');
    await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
    await enterPhone(page, '+7 912 000-00-15');
    await enterCode(page);
    await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
    await page.getByRole('button', { name: 'Продолжить' }).click();
    await page.getByTestId('chats-linked').waitFor();
    assert.deepEqual(await chatNames(page), [
      '5А класс', 'Английский язык 5А, группа 1', 'Биология 5А', 'География 5А', 'Изобразительное искусство 5А',
      'История 5А', 'Литература 5А', 'Математика 5А', 'Музыка 5А', 'Русский язык 5А', 'Труд (технология) 5А',
      'Физическая культура 5А',
    ]);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
