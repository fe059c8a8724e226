// «Управление чатами» (issue #6): an administrator makes a chat for an
// olympiad team from 9А and 9Б, one student not linked yet; the linked ones
// see it in the messenger at once, the pending one right after linking; a
// teacher is made its admin; the audit log shows every step. Then the bad
// input and the delete → restore path, in English too.
//
// This file asks for 3 codes (limits: 1 a minute and 5 an hour per phone, 20
// an hour per address): each student links with their own number.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account, screenshot } from '../lib/server.mjs';
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

const NAME = 'Олимпиада по физике';

async function signInAdmin(page) {
  const admin = account(server.accounts, 'administrator', 'Школа № 17');
  await signIn(page, admin.login, admin.password);
  await page.getByRole('heading', { level: 1, name: /^(Здравствуйте|Привет|Hello|Hi), / }).waitFor();
  const me = await (await page.request.get('/api/me')).json();
  return me.roles.find((r) => r.role === 'administrator' && r.org_name === 'Школа № 17').org_id;
}

/** Issues the class's password slip (as the administrator) and returns its students. */
async function studentsOf(page, org, className) {
  const classes = await (await page.request.get(`/api/orgs/${org}/classes`)).json();
  const klass = classes.find((c) => c.name === className);
  const res = await page.request.post(`/api/orgs/${org}/classes/${klass.id}/password-slip`, { timeout: 120_000 });
  assert.equal(res.status(), 200);
  return (await res.json()).filter((s) => s.role === 'student');
}

/**
 * A student from a slip: signs in, replaces the slip password (through the
 * API: the page itself is tested elsewhere), links a learning profile in
 * «Чаты» and opens the messenger. Ends on the messenger's chat list.
 */
async function linkStudent(student, phone) {
  const session = await newPage(browser, server.url);
  const { page } = session;
  let res = await page.request.post('/api/session', { data: { login: student.login, password: student.password } });
  assert.equal(res.status(), 200);
  res = await page.request.post('/api/me/password', { data: { current: student.password, new: 'олимпиада-2026' } });
  assert.equal(res.status(), 204);
  await page.goto('/#/chats');
  await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
  await enterPhone(page, phone);
  await enterCode(page);
  await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
  await page.getByRole('button', { name: 'Продолжить' }).click();
  await page.getByTestId('chats-linked').waitFor();
  await page.getByRole('button', { name: 'Перейти в Parta Мессенджер' }).click();
  await page.waitForURL(/\/messenger/);
  await page.getByTestId('chat-row').first().waitFor();
  return session;
}

function messengerRow(page, name) {
  return page.getByTestId('chat-row').filter({ hasText: name });
}

function memberRow(page, personId) {
  return page.getByTestId('member-list').locator(`.member-row[data-person="${personId}"]`);
}

/** Checks the page has no sideways scrolling at phone width. */
async function fitsThePhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${what} is ${width}px wide at 360px`);
}

test('an olympiad team chat: students of 9А and 9Б (one pending until she links), a teacher appointed admin, every step in the audit log', async () => {
  const adminSession = await newPage(browser, server.url);
  const students = [];
  const { page } = adminSession;
  try {
    const org = await signInAdmin(page);
    const [anna, carl] = await studentsOf(page, org, '9А');
    const [boris] = await studentsOf(page, org, '9Б');
    // Two of them link first and wait in the messenger.
    students.push(await linkStudent(anna, '+7 912 100-00-01'));
    students.push(await linkStudent(boris, '+7 912 100-00-02'));
    const [annaPage, borisPage] = students.map((s) => s.page);
    assert.equal(await messengerRow(annaPage, NAME).count(), 0);

    // The administrator has not linked a profile: «Управление чатами» is there anyway.
    await page.getByRole('banner').getByRole('link', { name: 'Чаты' }).click();
    await page.getByRole('link', { name: 'Управление чатами' }).click();
    await page.getByRole('heading', { level: 1, name: 'Управление чатами' }).waitFor();
    await page.getByTestId('manage-list').locator('[data-chat="9А класс"]').waitFor();
    assert.match(await page.getByTestId('manage-count').textContent(), /^Чатов: \d+$/);
    // Filters: the 9А chats only (a short list for the screenshot, too).
    await page.getByTestId('manage-class').selectOption({ label: '9А' });
    await page.getByTestId('manage-list').locator('[data-chat="Родители 9А"]').waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-chat="Учительская"]'));
    await page.getByTestId('manage-list').locator('[data-chat="Физика 9А"]').waitFor();
    await screenshot(page, 'manage-list-desktop');

    // «Создать чат»: an empty name is refused in the dialog.
    await page.getByTestId('create-chat').click();
    const create = page.getByRole('dialog', { name: 'Новый чат' });
    await create.getByRole('button', { name: 'Создать чат' }).click();
    await create.getByText('Введите название чата.').waitFor();
    await create.getByTestId('chat-name').fill(NAME);
    await create.getByTestId('chat-description').fill('Команда школы на региональном этапе.');
    await screenshot(page, 'manage-create');
    await create.getByRole('button', { name: 'Создать чат' }).click();

    // The new chat's page opens with «Добавить участников».
    const add = page.getByRole('dialog', { name: 'Добавить участников' });
    await add.waitFor();
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    const pick = async (student) => {
      await add.getByTestId('candidate-search').fill(student.name);
      const row = add.getByTestId('candidate-list').locator('label', { hasText: student.name });
      await row.locator('input').check();
      return row;
    };
    const annaRow = await pick(anna);
    assert.equal(await annaRow.getByText('не привязан(а)', { exact: false }).count(), 0, 'Anna is linked');
    await pick(boris);
    // A whole class at once is one click away once a class is chosen.
    await add.getByTestId('candidate-search').fill('');
    await add.getByTestId('candidate-class').selectOption({ label: '9А' });
    await add.getByText('Сразу весь класс 9А:').waitFor();
    await screenshot(page, 'manage-add-desktop');
    const carlRow = await pick(carl);
    await carlRow.getByText('не привязан(а): будет ожидать привязки').waitFor();
    assert.equal(await add.getByTestId('chosen').textContent(), 'Выбрано: 3');
    await add.getByRole('button', { name: 'Добавить (3)' }).click();
    await add.waitFor({ state: 'detached' });

    // Why each is there, and who waits to link.
    for (const s of [anna, boris]) {
      await memberRow(page, s.person_id).getByText('Добавлен(а) вручную').waitFor();
      assert.equal(await memberRow(page, s.person_id).getByTestId('pending-badge').count(), 0);
    }
    await memberRow(page, carl.person_id).getByTestId('pending-badge').waitFor();

    // The linked students see it in the messenger without reloading.
    await messengerRow(annaPage, NAME).waitFor();
    await messengerRow(borisPage, NAME).waitFor();

    // A teacher joins and is made the chat's admin.
    const teacher = account(server.accounts, 'teacher', 'Школа № 17');
    await page.getByTestId('add-members').click();
    await add.waitFor();
    await add.getByTestId('candidate-search').fill(teacher.name);
    await add.getByTestId('candidate-list').locator('label', { hasText: teacher.name }).locator('input').check();
    await add.getByRole('button', { name: 'Добавить (1)' }).click();
    await add.waitFor({ state: 'detached' });
    const teacherRow = page.getByTestId('member-list').locator('.member-row', { hasText: teacher.name });
    await teacherRow.getByRole('button', { name: `Сделать администратором: ${teacher.name}` }).click();
    await teacherRow.getByTestId('admin-badge').waitFor();
    await screenshot(page, 'manage-chat-desktop');

    // The pending student links: the chat is there in her messenger.
    students.push(await linkStudent(carl, '+7 912 100-00-03'));
    await messengerRow(students[2].page, NAME).waitFor();
    await page.reload();
    await memberRow(page, carl.person_id).waitFor();
    assert.equal(await memberRow(page, carl.person_id).getByTestId('pending-badge').count(), 0);

    // The audit log, newest first: every step, and the same as CSV.
    await page.getByRole('link', { name: 'Журнал действий с этим чатом' }).click();
    await page.getByTestId('audit-list').locator('li').first().waitFor();
    const actions = await page.getByTestId('audit-list').locator('.audit-entry').evaluateAll((els) => els.map((e) => e.dataset.action));
    assert.deepEqual(actions, ['appoint_admin', 'add_member', 'add_member', 'add_member', 'add_member', 'add_member', 'create']);
    const appointed = page.getByTestId('audit-list').locator('.audit-entry').first();
    await appointed.getByText(`Назначил(а) администратора: ${teacher.name.split(' ').slice(0, 2).join(' ')}`).waitFor();
    await appointed.getByText('администратор: нет → да').waitFor();
    await page.getByTestId('audit-list').locator('[data-action="create"]').getByText(`название: ${NAME}`, { exact: false }).waitFor();
    await screenshot(page, 'manage-audit-desktop');
    const csvHref = await page.getByTestId('audit-csv').getAttribute('href');
    const csv = await page.request.get(csvHref);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-disposition'], /^attachment; filename="chat-audit-\d+\.csv"$/);
    const text = await csv.text();
    assert.equal(text.trim().split('\n').length, 1 + 7, 'a header and the seven steps');
    assert.ok(text.includes('appoint_admin') && text.includes(NAME), text);

    // The teacher now finds the chat among those she manages.
    const teacherSession = await newPage(browser, server.url);
    try {
      await signIn(teacherSession.page, teacher.login, teacher.password);
      await teacherSession.page.getByRole('heading', { level: 1, name: /^(Здравствуйте|Привет), / }).waitFor();
      await teacherSession.page.goto(`/#/chats/${org}/manage`);
      await teacherSession.page.getByTestId('manage-list').locator(`[data-chat="${NAME}"]`).waitFor();
      assert.equal(await teacherSession.page.getByRole('link', { name: 'Журнал действий' }).count(), 0, 'the audit log is for administrators');
      assert.deepEqual(teacherSession.problems, []);
    } finally {
      await teacherSession.context.close();
    }

    // The same pages at phone width.
    const phone = await newPage(browser, server.url, { width: 360, height: 740 });
    try {
      const p = phone.page;
      await signInAdmin(p);
      await p.goto(`/#/chats/${org}/manage?kind=custom`);
      await p.getByTestId('manage-list').locator(`[data-chat="${NAME}"]`).waitFor();
      await fitsThePhone(p, 'the chat list');
      await screenshot(p, 'manage-list-phone');
      await p.getByTestId('manage-list').locator(`[data-chat="${NAME}"]`).click();
      await p.getByRole('heading', { level: 1, name: NAME }).waitFor();
      await memberRow(p, carl.person_id).waitFor();
      await fitsThePhone(p, 'the chat page');
      await screenshot(p, 'manage-chat-phone');
      await p.getByTestId('add-members').click();
      const phoneAdd = p.getByRole('dialog', { name: 'Добавить участников' });
      await phoneAdd.getByTestId('candidate-class').selectOption({ label: '9Б' });
      await phoneAdd.getByRole('button', { name: 'родители' }).click();
      await phoneAdd.getByTestId('chosen').getByText(/^Выбрано: [1-9]\d*$/).waitFor();
      await fitsThePhone(p, 'the add dialog');
      await screenshot(p, 'manage-add-phone');
      await phoneAdd.getByRole('button', { name: 'Отмена' }).click();
      await p.goto(`/#/chats/${org}/manage/audit`);
      await p.getByTestId('audit-list').locator('li').first().waitFor();
      await fitsThePhone(p, 'the audit log');
      await screenshot(p, 'manage-audit-phone');
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.context.close();
    }

    for (const s of students) assert.deepEqual(s.problems, []);
    assert.deepEqual(adminSession.problems, []);
  } finally {
    for (const s of students) await s.context.close();
    await adminSession.context.close();
  }
});

test('a duplicate name is warned about, an automatic chat is archived not deleted, a custom one is deleted with a confirmation and restored — in English', async () => {
  const { page, context, problems } = await newPage(browser, server.url, { lang: 'en' });
  try {
    const org = await signInAdmin(page);
    await page.goto(`/#/chats/${org}/manage`);
    await page.getByRole('heading', { level: 1, name: 'Chat management' }).waitFor();

    // «Олимпиада по физике» exists already: allowed, but said.
    await page.getByTestId('create-chat').click();
    const create = page.getByRole('dialog', { name: 'New chat' });
    await create.getByTestId('chat-name').fill('олимпиада по физике');
    await create.getByTestId('name-duplicate').getByText('A chat with this name exists already.', { exact: false }).waitFor();
    await create.getByTestId('chat-name').fill('Trip to Kazan');
    assert.equal(await create.getByTestId('name-duplicate').isVisible(), false);
    await create.getByTestId('chat-announcement').check();
    await create.getByRole('button', { name: 'Create the chat' }).click();
    const add = page.getByRole('dialog', { name: 'Add members' });
    await add.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { level: 1, name: 'Trip to Kazan' }).waitFor();
    await page.getByText('Only the chat’s admins post', { exact: true }).waitFor();

    // Delete: a confirmation, then the chat is gone for members and restorable for 30 days.
    await page.getByTestId('delete-chat').click();
    const confirm = page.getByRole('dialog', { name: 'Delete the chat “Trip to Kazan”?' });
    await confirm.getByText('For 30 days it can be restored with its messages', { exact: false }).waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('The chat is deleted: its members do not see it.', { exact: false }).waitFor();
    await page.getByTestId('restore-chat').click();
    await page.getByText('The chat is restored.').first().waitFor();
    await page.getByTestId('delete-chat').waitFor();

    // An automatic chat explains why it cannot be deleted, and is archived instead.
    await page.goto(`/#/chats/${org}/manage?kind=class`);
    await page.getByTestId('manage-list').locator('[data-chat="11В класс"]').click();
    await page.getByRole('heading', { level: 1, name: '11В класс' }).waitFor();
    await page.getByText('An automatic chat: its members come from the school’s records', { exact: false }).waitFor();
    assert.equal(await page.getByTestId('delete-chat').count(), 0);
    await page.getByText('An automatic chat cannot be deleted', { exact: false }).waitFor();
    const roster = page.getByTestId('member-why').filter({ hasText: 'From the school’s records:' });
    assert.ok(await roster.count() > 10, 'its members are there from the roster');
    await page.getByTestId('archive-chat').click();
    await page.getByRole('dialog', { name: 'Move the chat to the archive?' }).getByRole('button', { name: 'Archive' }).click();
    await page.getByText('The chat is archived: members read it but cannot write.').waitFor();
    await page.goto(`/#/chats/${org}/manage?state=archived`);
    await page.getByTestId('manage-list').locator('[data-chat="11В класс"]').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
