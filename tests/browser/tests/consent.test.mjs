// A consent form in «Родители 5А» (issue 20) answered by two parents for
// three children: the class teacher of 5А (Донская Эльмира, on a 360 px
// phone) asks; Малышева Карина answers for her daughter; Сафин Григорий —
// made the guardian of a second 5А student by the director first — answers
// for both of his, one of them «Не согласен» with a comment. The teacher's
// report counts three of the class, reminds the rest, downloads the CSV and
// prints. Asks for 3 codes, one per person.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { message, openChat } from '../lib/chat.mjs';

let server;
let browser;
const people = {};

/** The director makes Сафин Григорий the guardian of a second student of 5А. */
async function secondChildForTheFather() {
  const director = await newPage(browser, server.url);
  const admin = account(server.accounts, 'administrator', 'Школа № 17');
  await signIn(director.page, admin.login, admin.password);
  await director.page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
  const request = director.page.request;
  const me = await (await request.get('/api/me')).json();
  const org = me.roles.find((r) => r.role === 'administrator' && r.org_name === 'Школа № 17').org_id;
  const classes = await (await request.get(`/api/orgs/${org}/classes`)).json();
  const c5a = classes.find((c) => c.name === '5А');
  const detail = await (await request.get(`/api/orgs/${org}/classes/${c5a.id}`)).json();
  const parents = ['malysheva.kd', 'safin.gp'];
  const father = detail.students.flatMap((s) => s.guardians).find((g) => g.login === 'safin.gp');
  const other = detail.students.find((s) => !s.guardians.some((g) => parents.includes(g.login)));
  const res = await request.put(`/api/orgs/${org}/guardianships`, { data: { guardian_id: father.id, student_id: other.id } });
  assert.equal(res.status(), 204);
  await director.context.close();
  return detail.students.length;
}

let students;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  students = await secondChildForTheFather();
  people.teacher = await newPage(browser, server.url, { width: 360, height: 740 });
  people.mother = await newPage(browser, server.url);
  people.father = await newPage(browser, server.url, { width: 360, height: 740 });
  await linkAndOpenMessenger(people.teacher.page, { login: 'donskaya.ef', phone: '+7 912 420-00-01' });
  await linkAndOpenMessenger(people.mother.page, { login: 'malysheva.kd', phone: '+7 912 420-00-02' });
  await linkAndOpenMessenger(people.father.page, { login: 'safin.gp', phone: '+7 912 420-00-03' });
});

after(async () => {
  for (const p of Object.values(people)) await p.context.close();
  await browser?.close();
  await server?.stop();
});

const CHAT = 'Родители 5А';
const TITLE = 'Экскурсия в Исторический музей';
const TEXT = 'В пятницу едем в музей с 10:00 до 14:00. Разрешаете ли вы ребёнку поехать?';

async function noHorizontalScroll(page) {
  const w = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(w <= 360, `scrollWidth ${w} > 360`);
}

function child(page, n) {
  return message(page, TEXT).getByTestId('consent-child').nth(n);
}

async function choose(page, n, option, comment) {
  const row = child(page, n);
  if (comment) await row.getByTestId('consent-comment').fill(comment);
  await row.getByTestId('consent-option').filter({ hasText: new RegExp(`^${option}$`) }).click();
  await row.getByTestId('consent-answer').filter({ hasText: `${option} — ` }).waitFor();
}

test('a consent form is answered by two parents for three children, with the report, a reminder, CSV and print', async () => {
  const t = people.teacher.page;
  const m = people.mother.page;
  const f = people.father.page;
  for (const page of [t, m, f]) await openChat(page, CHAT);

  await t.getByTestId('consent-create').click();
  const form = t.getByRole('dialog', { name: 'Форма согласия' });
  await form.getByTestId('consent-title').fill(TITLE);
  await form.getByTestId('consent-text').fill(TEXT);
  assert.deepEqual(await form.getByTestId('consent-option').evaluateAll((l) => l.map((i) => i.value)), ['Согласен', 'Не согласен']);
  await screenshot(t, 'consent-form-phone');
  await form.getByRole('button', { name: 'Отправить родителям' }).click();
  await form.waitFor({ state: 'detached' });

  // Each parent sees a row per child of theirs in 5А.
  await message(m, TEXT).getByTestId('consent-title').filter({ hasText: TITLE }).waitFor();
  await child(m, 0).waitFor();
  await child(f, 1).waitFor();
  assert.equal(await message(m, TEXT).getByTestId('consent-child').count(), 1);
  assert.equal(await message(f, TEXT).getByTestId('consent-child').count(), 2);
  // Parents are not shown the class's count or the report.
  assert.equal(await m.getByTestId('consent-report').count(), 0);

  await choose(m, 0, 'Согласен');
  await choose(f, 0, 'Согласен');
  await choose(f, 1, 'Не согласен', 'В пятницу у него врач');
  await screenshot(f, 'consent-answered-phone');
  await noHorizontalScroll(f);
  await message(t, TEXT).getByTestId('consent-answered').filter({ hasText: `Ответили за 3 учеников из ${students}` }).waitFor();

  await message(t, TEXT).getByTestId('consent-report').click();
  const report = t.getByRole('dialog', { name: 'Ответы' });
  await report.getByTestId('consent-report-sum').filter({ hasText: `Ответили за 3 учеников из ${students}` }).waitFor();
  const rows = report.getByTestId('consent-report-row');
  assert.equal(await rows.count(), students);
  assert.equal(await rows.filter({ hasText: 'Нет ответа' }).count(), students - 3);
  await rows.filter({ hasText: 'В пятницу у него врач' }).filter({ hasText: 'Сафин Григорий' }).waitFor();
  await noHorizontalScroll(t);
  await screenshot(t, 'consent-report-phone');

  await report.getByTestId('consent-remind').click();
  await report.getByTestId('consent-reminded').waitFor();
  assert.equal(await report.getByTestId('consent-remind').count(), 0, 'at most once in 12 hours');

  const href = await report.getByTestId('consent-csv').getAttribute('href');
  const csv = await t.evaluate((u) => fetch(u).then((r) => r.text()), href);
  const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  assert.equal(lines[0], TITLE);
  assert.match(lines[1], /^ученик,ответ,комментарий,кто ответил,когда \(UTC[+-]\d\d:\d\d\),прежние ответы$/);
  assert.equal(lines.length, 2 + students);
  assert.equal(lines.filter((l) => l.includes(',Согласен,,Сафин Григорий,')).length, 1);
  assert.equal(lines.filter((l) => l.includes(',Не согласен,В пятницу у него врач,Сафин Григорий,')).length, 1);
  assert.equal(lines.filter((l) => l.includes(',Согласен,,Малышева Карина,')).length, 1);
  assert.equal(lines.filter((l) => l.endsWith(',нет ответа,,,,')).length, students - 3);

  // The print view: the report alone, as a table with every student.
  await report.getByTestId('consent-print').evaluate((b) => {
    window.print = () => {};
    b.click();
  });
  await t.emulateMedia({ media: 'print' });
  assert.equal(await t.getByTestId('composer').isVisible(), false);
  assert.equal(await report.getByTestId('consent-report-table').isVisible(), true);
  assert.equal(await report.getByTestId('consent-csv').isVisible(), false);
  assert.equal(await report.locator('thead').isVisible(), true);
  await t.emulateMedia({ media: 'screen' });
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
});
