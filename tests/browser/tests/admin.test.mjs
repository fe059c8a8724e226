// What a school administrator does in the portal: find their way through the
// roster, edit people, issue passwords, switch the chats module.

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

/** Signs in as the Школа № 17 director; returns the page at home. */
async function asAdministrator(options) {
  const ctx = await newPage(browser, server.url, options);
  const admin = account(server.accounts, 'administrator', 'Школа № 17');
  await signIn(ctx.page, admin.login, admin.password);
  await ctx.page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
  return { ...ctx, admin };
}

async function openClass(page, name) {
  await page.getByRole('link', { name: /Состав школы|School roster/ }).first().click();
  await page.getByRole('heading', { level: 1, name: /Состав школы|School roster/ }).waitFor();
  await page.locator(`.class-card[data-class="${name}"]`).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

test('an administrator signs in, opens class 5А with its students, parents and class teacher, opens a person card, and switches to English', async () => {
  const { page, context, problems, admin } = await asAdministrator();
  try {
    // Home: greeting, the school with the role, the roster link.
    const [, first, middle] = admin.name.split(' ');
    await page.getByRole('heading', { level: 1, name: `Здравствуйте, ${first} ${middle}!` }).waitFor();
    const card = page.locator('.org-card', { hasText: 'Школа № 17' });
    await card.getByText('Администратор').waitFor();
    await card.getByText('Чаты подключены').waitFor();
    await page.locator('.topbar').getByText(first).waitFor();
    await page.getByRole('button', { name: 'Выйти' }).waitFor();

    // Roster: classes grouped by grade, with class teacher and student count.
    await page.getByRole('link', { name: /Состав школы/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Состав школы' }).waitFor();
    await page.getByRole('heading', { level: 2, name: '5 классы' }).waitFor();
    const card5a = page.locator('.class-card[data-class="5А"]');
    assert.match(await card5a.innerText(), /\d+ учени(к|ка|ков)/);

    // Class 5А: the class teacher, students, and their parents.
    await card5a.click();
    await page.getByRole('heading', { level: 1, name: '5А' }).waitFor();
    const teacher = account(server.accounts, 'teacher', 'Школа № 17'); // the class teacher of 5А
    await page.getByTestId('class-teacher').getByText(teacher.name).waitFor();
    const student = account(server.accounts, 'student', 'Школа № 17');
    const mother = account(server.accounts, 'guardian', 'Школа № 17');
    const row = page.locator('.student', { hasText: student.name });
    await row.waitFor();
    await row.locator('.parents').getByRole('link', { name: mother.name }).waitFor();
    assert.ok(await page.locator('.student').count() >= 20, 'a full class of students');
    await page.getByRole('heading', { level: 2, name: 'Предметы и учителя' }).waitFor();

    // The student's card: role, class, parent.
    await row.getByRole('link', { name: student.name }).click();
    await page.getByRole('heading', { level: 1, name: student.name }).waitFor();
    await page.locator('.person-card').getByText('Ученик', { exact: true }).waitFor();
    await page.getByTestId('person-classes').getByRole('link', { name: '5А' }).waitFor();
    await page.getByTestId('person-parents').getByRole('link', { name: mother.name }).waitFor();

    // English, remembered across a reload.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Parents' }).waitFor();
    await page.getByRole('button', { name: 'Edit details' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 2, name: 'Classes' }).waitFor();
    await page.locator('.person-card').getByText('Student', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'School roster' }).click();
    await page.getByRole('heading', { level: 1, name: 'School roster' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Grade 5' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');

    // And back to Russian.
    await page.getByRole('button', { name: 'Русский' }).click();
    await page.getByRole('heading', { level: 1, name: 'Состав школы' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an administrator renames a person and sees the new name after a reload', async () => {
  const { page, context, problems } = await asAdministrator();
  try {
    await openClass(page, '5Б');
    const link = page.locator('.student .student-name').first();
    const oldName = await link.innerText();
    const [last, , middle] = oldName.split(' ');
    await link.click();
    await page.getByRole('heading', { level: 1, name: oldName }).waitFor();

    await page.getByRole('button', { name: 'Изменить данные' }).click();
    const dialog = page.getByRole('dialog', { name: 'Данные человека' });
    await dialog.getByLabel('Имя', { exact: true }).fill('');
    await dialog.getByRole('button', { name: 'Сохранить' }).click();
    // Client-side check: an empty first name is refused before any request.
    await dialog.getByText('Заполните обязательные поля.').waitFor();

    await dialog.getByLabel('Имя', { exact: true }).fill('Тестомир');
    await dialog.getByRole('button', { name: 'Сохранить' }).click();
    await dialog.waitFor({ state: 'detached' });
    const newName = [last, 'Тестомир', middle].filter(Boolean).join(' ');
    await page.getByRole('heading', { level: 1, name: newName }).waitFor();
    await page.getByRole('status').getByText('Изменения сохранены.').waitFor();

    await page.reload();
    await page.getByRole('heading', { level: 1, name: newName }).waitFor();
    // The class page shows the new name too.
    await page.getByTestId('person-classes').getByRole('link', { name: '5Б' }).click();
    await page.locator('.student').getByRole('link', { name: newName }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('issuing passwords for a class shows a printable slip with logins, and a slip password leads to choosing your own', async () => {
  const { page, context, problems } = await asAdministrator();
  let slip;
  try {
    await openClass(page, '6А');
    await page.getByRole('button', { name: 'Выдать пароли' }).click();
    const dialog = page.getByRole('dialog', { name: 'Выдать пароли классу 6А?' });
    await dialog.getByRole('button', { name: 'Выдать и показать лист' }).click();
    await page.getByRole('heading', { level: 1, name: 'Пароли для входа — 6А' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Распечатать' }).waitFor();

    const cards = page.getByTestId('slip');
    const n = await cards.count();
    assert.ok(n >= 20, `a slip for every student and parent without a password, got ${n}`);
    slip = await cards.evaluateAll((els) => els.map((el) => ({
      name: el.querySelector('.slip-name').textContent,
      login: el.querySelector('.slip-login').textContent,
      password: el.querySelector('.slip-password').textContent,
    })));
    for (const s of slip) {
      assert.match(s.login, /^[\p{L}\p{N}._@-]{3,}$/u);
      assert.match(s.password, /^[a-z2-9]{10}$/);
    }

    // The logins on the slip are those of 6А's students and their parents.
    const me = await (await page.request.get('/api/me')).json();
    const org = me.roles.find((r) => r.role === 'administrator' && r.org_name === 'Школа № 17').org_id;
    const classId = page.url().match(/class\/(\d+)\/slip/)[1];
    const detail = await (await page.request.get(`/api/orgs/${org}/classes/${classId}`)).json();
    const logins = new Set(detail.students.flatMap((s) => [s.login, ...s.guardians.map((g) => g.login)]));
    for (const s of slip) assert.ok(logins.has(s.login), `${s.login} belongs to 6А`);

    // Printing hides the portal's chrome and keeps the cards.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.topbar').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Распечатать' }).isVisible(), false);
    assert.equal(await cards.first().isVisible(), true);
    await page.emulateMedia({ media: 'screen' });

    // Issuing again finds nobody left without a password.
    await page.getByRole('link', { name: 'Вернуться к классу' }).click();
    await page.getByRole('button', { name: 'Выдать пароли' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Выдать и показать лист' }).click();
    await page.getByText('У всех учеников и родителей этого класса уже есть пароли.').waitFor({ timeout: 60_000 });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }

  // Someone from the slip signs in and must choose their own password first.
  const first = slip[0];
  const other = await newPage(browser, server.url, { width: 360, height: 740 });
  try {
    const { page: p } = other;
    await signIn(p, first.login, first.password);
    await p.getByRole('heading', { level: 1, name: 'Придумайте свой пароль' }).waitFor();
    await p.getByLabel('Новый пароль', { exact: true }).fill('short');
    await p.getByLabel('Повторите новый пароль').fill('short');
    await p.getByRole('button', { name: 'Сохранить пароль' }).click();
    await p.getByText('Пароль должен быть не короче 8 символов.').first().waitFor();
    await p.getByLabel('Новый пароль', { exact: true }).fill('моя-парта-2026');
    await p.getByLabel('Повторите новый пароль').fill('моя-парта-2026');
    await p.getByRole('button', { name: 'Сохранить пароль' }).click();
    await p.getByRole('heading', { level: 1, name: /^(Привет|Здравствуйте), / }).waitFor();

    // The new password works; the slip's one no longer does.
    await p.getByRole('button', { name: 'Выйти' }).click();
    await signIn(p, first.login, first.password);
    await p.getByText('Неверный логин или пароль.').waitFor();
    await signIn(p, first.login, 'моя-парта-2026');
    await p.getByRole('heading', { level: 1, name: /^(Привет|Здравствуйте), / }).waitFor();
    assert.deepEqual(other.problems, []);
  } finally {
    await other.context.close();
  }
});

test('an administrator adds a class with a checked name', async () => {
  const { page, context, problems } = await asAdministrator();
  try {
    await page.getByRole('link', { name: /Состав школы/ }).click();
    await page.getByRole('button', { name: 'Добавить класс' }).click();
    const dialog = page.getByRole('dialog', { name: 'Новый класс' });
    await dialog.getByLabel('Название класса').fill('12Я');
    await dialog.getByRole('button', { name: 'Добавить класс' }).click();
    await dialog.getByText(/Название класса — номер от 1 до 11/).waitFor();
    await dialog.getByLabel('Название класса').fill('5г');
    await dialog.getByRole('button', { name: 'Добавить класс' }).click();
    await page.getByRole('heading', { level: 1, name: '5Г' }).waitFor();
    await page.getByText('В классе пока нет учеников.').waitFor();
    await page.getByRole('link', { name: 'Состав школы' }).click();
    await page.locator('.class-card[data-class="5Г"]').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an administrator finds people by name and role', async () => {
  const { page, context, problems } = await asAdministrator();
  try {
    await page.getByRole('link', { name: /Состав школы/ }).click();
    await page.getByRole('link', { name: 'Люди' }).click();
    const teacher = account(server.accounts, 'teacher', 'Школа № 17');
    const [last] = teacher.name.split(' ');
    await page.getByLabel('Роль').selectOption('teacher');
    await page.getByLabel('Поиск по фамилии, имени или логину').fill(last);
    await page.getByTestId('people-list').getByRole('link', { name: teacher.name }).waitFor();
    const rows = page.getByTestId('people-list').locator('.person-row');
    for (const text of await rows.allInnerTexts()) assert.match(text, /Учитель/);
    // The search is kept in the address, so a reload shows the same list.
    await page.reload();
    await page.getByTestId('people-list').getByRole('link', { name: teacher.name }).waitFor();
    assert.equal(await page.getByLabel('Роль').inputValue(), 'teacher');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an administrator switches the chats module off and on after confirming', async () => {
  const { page, context, problems } = await asAdministrator();
  try {
    const card = page.locator('.org-card', { hasText: 'Школа № 17' });
    const sw = card.getByRole('switch', { name: 'Модуль «Чаты»' });
    assert.equal(await sw.getAttribute('aria-checked'), 'true');
    await sw.click();
    // Cancelling changes nothing.
    await page.getByRole('dialog', { name: 'Выключить чаты?' }).getByRole('button', { name: 'Отмена' }).click();
    assert.equal(await sw.getAttribute('aria-checked'), 'true');
    await sw.click();
    await page.getByRole('dialog', { name: 'Выключить чаты?' }).getByRole('button', { name: 'Выключить' }).click();
    await card.getByText('Чаты выключены').waitFor();
    assert.equal(await card.getByRole('switch').getAttribute('aria-checked'), 'false');
    await card.getByRole('switch').click();
    await page.getByRole('dialog', { name: 'Включить чаты?' }).getByRole('button', { name: 'Включить' }).click();
    await card.getByText('Чаты подключены').waitFor();
    assert.equal(await card.getByRole('switch').getAttribute('aria-checked'), 'true');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
