// A person's data rights (152-ФЗ), as people meet them: a mother writes in
// «Родители 5А», then in the messenger's settings asks for «Мои данные»,
// watches the archive being made and downloads it — the zip holds her
// message. The director, on the portal's «Данные» page, makes a copy of her
// data at her request (with the ground, logged), downloads it, and sets how
// long archived chats are kept after looking at what would go. When the
// mother has left the school, the director erases her data after reading the
// dry-run, and her message in the parents' chat is the teacher's to read
// under «Удалённый пользователь».
//
// This file asks for 2 codes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { message, openChat, send } from '../lib/chat.mjs';

let server;
let browser;
let mother;
let teacher;
const TEXT = 'Прошу выдать справку для бассейна';
const dir = mkdtempSync(path.join(tmpdir(), 'parta-data-'));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  mother = await newPage(browser, server.url);
  await linkAndOpenMessenger(mother.page, { login: 'malysheva.kd', phone: '+7 912 420-00-01' });
  teacher = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 420-00-02' });
});

after(async () => {
  await mother?.context.close();
  await teacher?.context.close();
  await browser?.close();
  await server?.stop();
});

/** Clicks the archive's link and returns the named file from the zip. */
async function downloaded(page, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
  const file = path.join(dir, `${Date.now()}.zip`);
  await download.saveAs(file);
  return execFileSync('unzip', ['-p', file, name], { encoding: 'utf8' });
}

/** Signs the director in to the portal; the id of the school she runs. */
async function signedInDirector(page) {
  await signIn(page, 'sergeev.vr', 'parta2026');
  await page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
  return page.evaluate(async () => {
    const me = await fetch('/api/me').then((r) => r.json());
    return me.roles.find((r) => r.role === 'administrator').org_id;
  });
}

test('a parent downloads her data from the messenger settings and the zip holds her message', async () => {
  const { page, problems } = mother;
  await openChat(page, 'Родители 5А');
  await send(page, TEXT);
  await message(page, TEXT).waitFor();

  await page.getByRole('link', { name: 'Настройки' }).click();
  const card = page.getByTestId('set-data');
  await card.getByRole('heading', { name: 'Мои данные' }).waitFor();
  await card.getByRole('button', { name: 'Скачать мои данные' }).click();
  await card.getByText('Архив готов', { exact: true }).waitFor();
  await card.getByText(/Ссылка действует до/).waitFor();
  await card.getByRole('button', { name: 'Подготовить новый архив' }).waitFor();
  await screenshot(page, 'data-rights-mine');
  const messages = JSON.parse(await downloaded(page, 'messages.json'));
  assert.ok(messages.some((m) => m.text === TEXT && m.chat === 'Родители 5А' && m.date), JSON.stringify(messages));
  const profile = JSON.parse(await downloaded(page, 'profile.json'));
  assert.equal(profile.phone, '+79124200001');
  assert.deepEqual(problems, []);
});

test('the director copies a parent\'s data with a ground, sees it logged, and sets retention after a preview', async () => {
  const director = await newPage(browser, server.url);
  try {
    const { page, problems } = director;
    const org = await signedInDirector(page);
    await page.goto(`/#/roster/${org}`);
    await page.getByRole('link', { name: 'Данные' }).click();
    await page.getByRole('heading', { level: 1, name: 'Данные и хранение' }).waitFor();

    // A copy of the mother's data, at her request.
    const exportCard = page.getByTestId('dr-export');
    await exportCard.getByTestId('export-search').fill('malysheva.kd');
    const person = exportCard.getByTestId('export-person').filter({ hasText: 'Малышева' }).first();
    await person.getByRole('button', { name: 'Копия данных' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Копия данных' }).click();
    await dialog.getByText('Укажите основание.').waitFor();
    await dialog.getByTestId('rights-reason').fill('Заявление от 7 декабря');
    await dialog.getByRole('button', { name: 'Копия данных' }).click();
    await page.getByTestId('org-exports').getByText('Архив готов', { exact: true }).waitFor();
    const messages = JSON.parse(await downloaded(page, 'messages.json'));
    assert.ok(messages.some((m) => m.text === TEXT), JSON.stringify(messages));
    const log = page.getByTestId('rights-audit-line').filter({ hasText: 'копия данных' });
    await log.filter({ hasText: 'Заявление от 7 декабря' }).waitFor();

    // Retention: a year, after seeing that nothing of this year would go.
    const retention = page.getByTestId('dr-retention');
    assert.equal(await retention.getByTestId('retention-years').inputValue(), '3');
    await retention.getByTestId('retention-years').selectOption('1');
    await retention.getByRole('button', { name: 'Что будет удалено сегодня' }).click();
    await retention.getByText('Сейчас удалять нечего.').waitFor();
    await retention.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByTestId('rights-audit-line').filter({ hasText: 'срок хранения изменён' }).waitFor();
    assert.equal(await page.getByTestId('retention-years').inputValue(), '1');
    await page.getByTestId('dr-former').getByText('Выбывших с нестёртыми данными нет.').waitFor();
    await screenshot(page, 'data-rights-portal');
    assert.deepEqual(problems, []);
  } finally {
    await director.context.close();
  }
});

/**
 * The roster says she left: what a school's import does when a family moves
 * away (the demo has no import to run, so the row is changed as it would).
 */
function leaves(login) {
  const script = 'import sqlite3, sys\n'
    + 'db = sqlite3.connect(sys.argv[1], timeout=10)\n'
    + 'db.execute("UPDATE people SET active = 0 WHERE login = ?", (sys.argv[2],))\n'
    + 'db.commit()\n';
  execFileSync('python3', ['-c', script, path.join(server.data, 'parta.db'), login]);
}

test('the director erases the data of a mother who left, after the dry-run, and her message stays as «Удалённый пользователь»', async () => {
  leaves('malysheva.kd');
  const director = await newPage(browser, server.url);
  try {
    const { page, problems } = director;
    const org = await signedInDirector(page);
    await page.goto(`/#/roster/${org}/data`);
    const former = page.getByTestId('former-member').filter({ hasText: 'Малышева' });
    await former.getByRole('button', { name: 'Стереть данные…' }).click();
    const dialog = page.getByRole('dialog');
    const plan = dialog.getByTestId('erasure-plan');
    await plan.getByText('Сообщений станет от «Удалённый пользователь»: 1').waitFor();
    await plan.getByText('Parta ID будет стёрт полностью', { exact: false }).waitFor();
    await dialog.getByTestId('rights-reason').fill('Выбыла, заявление от 7 декабря');
    await dialog.getByRole('button', { name: 'Стереть' }).click();
    await dialog.getByText('Отметьте, что понимаете: стирание нельзя отменить.').waitFor();
    await screenshot(page, 'data-rights-erasure');
    await dialog.getByTestId('erase-confirm').check();
    await dialog.getByRole('button', { name: 'Стереть' }).click();
    await page.getByRole('status').filter({ hasText: 'Данные стёрты.' }).waitFor();
    await page.getByTestId('dr-former').getByText('Выбывших с нестёртыми данными нет.').waitFor();
    await page.getByTestId('rights-audit-line').filter({ hasText: 'стирание данных' })
      .filter({ hasText: 'Выбыла, заявление от 7 декабря' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await director.context.close();
  }

  const tp = teacher.page;
  await tp.reload();
  await openChat(tp, 'Родители 5А');
  const left = message(tp, TEXT);
  await left.waitFor();
  assert.match(await left.innerText(), /Удалённый пользователь/);
  assert.deepEqual(teacher.problems, []);
});
