// Safeguarding, as the people involved meet it: a student of 5А reports an
// adult's direct message («Пожаловаться»); the director names the school
// psychologist responsible for safeguarding on her page in the portal; she
// opens «Жалобы», sees the message as it was with those around it, hides it
// and mutes the adult for a day; the student sees «Скрыто модератором» and, in
// «Мои жалобы», what was done. Then she blocks him in their direct chat; and
// the director opens «5А класс» with a reason, which its members are told of.
//
// This file asks for 2 codes (limits: 1 a minute and 5 an hour per phone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, account, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';

let server;
let browser;
let teacher;
let student;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  teacher = await newPage(browser, server.url, { expectStatuses: [403] });
  student = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 300-00-11' });
  await linkAndOpenMessenger(student.page, { login: 'malysheva.ev', phone: '+7 912 300-00-12' });
});

after(async () => {
  await teacher?.context.close();
  await student?.context.close();
  await browser?.close();
  await server?.stop();
});

const BAD = 'Приходи одна после уроков и никому не говори';

test('a student reports an adult\'s direct message; the safeguarding officer hides it and mutes the adult', async () => {
  // The adult writes to the student directly (set up through the API: the
  // subject here is what happens after).
  const { org } = await teacher.page.evaluate(async (text) => {
    const chats = await fetch('/api/messenger/chats').then((r) => r.json());
    const klass = chats.find((c) => c.name === '5А класс');
    const members = await fetch(`/api/messenger/chats/${klass.id}/members`).then((r) => r.json());
    const ev = members.find((m) => m.name.startsWith('Малышева Ева'));
    const direct = await fetch('/api/messenger/direct', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ org: klass.org, person: ev.person }),
    }).then((r) => r.json());
    await fetch(`/api/messenger/chats/${direct.id}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: 'sg-1', text }),
    });
    return { org: klass.org };
  }, BAD);

  // The student reports it from the message's menu.
  const sp = student.page;
  await sp.getByTestId('chat-row').filter({ hasText: 'Донская Эльмира' }).first().click();
  const msg = sp.getByTestId('message').filter({ hasText: BAD });
  await msg.hover();
  await msg.locator('.pm-more').click();
  await sp.getByRole('menuitem', { name: 'Пожаловаться' }).click();
  const dialog = sp.getByRole('dialog', { name: 'Пожаловаться на сообщение' });
  await dialog.getByTestId('report-reason').selectOption('danger');
  await dialog.getByTestId('report-comment').fill('Мне страшно');
  await sp.setViewportSize({ width: 360, height: 740 });
  await screenshot(sp, 'safeguarding-report-phone');
  await sp.setViewportSize({ width: 1280, height: 860 });
  await dialog.getByRole('button', { name: 'Отправить жалобу' }).click();
  await sp.getByRole('status').filter({ hasText: 'Жалоба отправлена' }).waitFor();

  // The director names the school psychologist responsible for safeguarding.
  const officer = account(server.accounts, 'other_staff', 'Школа № 17');
  const director = await newPage(browser, server.url);
  try {
    await signIn(director.page, 'sergeev.vr', 'parta2026');
    await director.page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    const id = await director.page.evaluate(async ({ o, login }) => {
      const people = await fetch(`/api/orgs/${o}/people?role=other_staff&limit=500`).then((r) => r.json());
      return people.find((p) => p.login === login).id;
    }, { o: org, login: officer.login });
    await director.page.goto(`/#/roster/${org}/person/${id}`);
    await director.page.getByTestId('safeguarding-toggle').click();
    await director.page.getByTestId('safeguarding-state').filter({ hasText: 'Отвечает за безопасность' }).waitFor();
    assert.deepEqual(director.problems, []);
  } finally {
    await director.context.close();
  }

  // She finds the report, sees the evidence, hides the message and mutes the adult.
  const moderator = await newPage(browser, server.url);
  try {
    const mp = moderator.page;
    await signIn(mp, officer.login, officer.password);
    await mp.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    await mp.goto(`/#/chats/${org}/manage`);
    await mp.getByRole('link', { name: 'Жалобы' }).click();
    const report = mp.getByTestId('report').filter({ hasText: 'Опасность для ребёнка' });
    await report.getByTestId('report-context').filter({ hasText: BAD }).waitFor();
    await report.getByText('«Мне страшно»').waitFor();
    assert.equal(await report.getByTestId('decide-remove').count(), 0, 'nobody is removed from a direct chat');
    await report.getByTestId('decide-hide').check();
    await report.getByTestId('decide-mute').selectOption('1440');
    await report.getByTestId('decide-note').fill('Сообщение скрыто, с учителем поговорили');
    await mp.setViewportSize({ width: 360, height: 740 });
    await screenshot(mp, 'safeguarding-queue-phone');
    await report.getByTestId('decide-apply').click();
    await mp.getByRole('status').filter({ hasText: 'Решение принято.' }).waitFor();
    await mp.getByRole('link', { name: 'Рассмотренные' }).click();
    await mp.getByTestId('report-outcome').filter({ hasText: 'сообщение скрыто' }).waitFor();
    assert.deepEqual(moderator.problems, []);
  } finally {
    await moderator.context.close();
  }

  // The student's open chat shows the tombstone at once; the adult may not write.
  await sp.getByTestId('hidden-message').filter({ hasText: 'Скрыто модератором' }).waitFor();
  assert.equal(await sp.getByText(BAD).count(), 0);
  const status = await teacher.page.evaluate(async () => {
    const chats = await fetch('/api/messenger/chats').then((r) => r.json());
    const direct = chats.find((c) => c.kind === 'direct');
    const res = await fetch(`/api/messenger/chats/${direct.id}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: 'sg-2', text: 'Ну?' }),
    });
    return res.status;
  });
  assert.equal(status, 403, 'the muted adult cannot write');

  // «Мои жалобы» tells the student what was done.
  await sp.goto('/messenger#/settings');
  const mine = sp.getByTestId('my-report').first();
  await mine.filter({ hasText: 'Меры приняты' }).waitFor();
  await mine.filter({ hasText: 'сообщение скрыто' }).waitFor();
  await mine.filter({ hasText: 'автору запрещено писать до' }).waitFor();
  await sp.setViewportSize({ width: 360, height: 740 });
  await screenshot(sp, 'safeguarding-my-reports-phone');
  assert.deepEqual(student.problems, []);
  assert.deepEqual(teacher.problems, []);
});

test('the student blocks the adult in their direct chat: he cannot write there, the class chat is untouched; then unblocks', async () => {
  const sp = student.page;
  await sp.goto('/messenger');
  await sp.getByTestId('chat-row').filter({ hasText: 'Донская Эльмира' }).first().click();
  await sp.locator('.pm-conv-head').getByRole('button', { name: /Донская Эльмира/ }).click();
  const toggle = sp.getByTestId('members-panel').getByTestId('block-toggle');
  await toggle.filter({ hasText: 'Заблокировать' }).click();
  await sp.getByRole('status').filter({ hasText: 'Заблокировано' }).waitFor();
  await sp.setViewportSize({ width: 360, height: 740 });
  await screenshot(sp, 'safeguarding-block-phone');
  await sp.setViewportSize({ width: 1280, height: 860 });

  const attempt = () => teacher.page.evaluate(async () => {
    const chats = await fetch('/api/messenger/chats').then((r) => r.json());
    const post = async (chat, id, text) => {
      const res = await fetch(`/api/messenger/chats/${chat.id}/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: id, text }),
      });
      return res.ok ? 'ok' : (await res.json()).code;
    };
    const n = Math.random().toString(36).slice(2);
    return {
      direct: await post(chats.find((c) => c.kind === 'direct'), `d-${n}`, 'Ответь'),
      klass: await post(chats.find((c) => c.name === '5А класс'), `k-${n}`, 'Завтра экскурсия'),
    };
  });
  assert.deepEqual(await attempt(), { direct: 'blocked', klass: 'ok' });

  await toggle.filter({ hasText: 'Разблокировать' }).click();
  await sp.getByRole('status').filter({ hasText: 'Разблокировано.' }).waitFor();
  // Unblocked, he is still muted there for the day the moderator chose.
  assert.deepEqual(await attempt(), { direct: 'muted', klass: 'ok' });
  assert.deepEqual(student.problems, []);
  assert.deepEqual(teacher.problems, []);
});

test('the director opens «5А класс» read-only with a reason; its members see how often and when, not who or why', async () => {
  const director = await newPage(browser, server.url);
  const { org } = await student.page.evaluate(async () => {
    const chats = await fetch('/api/messenger/chats').then((r) => r.json());
    return { org: chats.find((c) => c.name === '5А класс').org };
  });
  try {
    const dp = director.page;
    await signIn(dp, 'sergeev.vr', 'parta2026');
    await dp.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    await dp.goto(`/#/chats/${org}/manage/reports`);
    await dp.getByTestId('oversee-chat').selectOption({ label: '5А класс' });
    await dp.getByTestId('oversee-reason').fill('Родители сообщили о травле в классе');
    await dp.getByTestId('oversee-open').click();
    await dp.getByTestId('oversee-messages').getByText('Завтра экскурсия').first().waitFor();
    await dp.getByTestId('oversight-log').getByText(/Родители сообщили о травле в классе/).waitFor();
    await dp.setViewportSize({ width: 360, height: 740 });
    await screenshot(dp, 'safeguarding-oversight-phone');
    assert.deepEqual(director.problems, []);
  } finally {
    await director.context.close();
  }

  const sp = student.page;
  await sp.goto('/messenger');
  await sp.getByTestId('chat-row').filter({ hasText: '5А класс' }).first().click();
  await sp.locator('.pm-conv-head').getByRole('button', { name: /5А класс/ }).click();
  const notice = sp.getByTestId('members-panel').getByTestId('oversight-notice');
  await notice.filter({ hasText: 'Администрация школы открывала этот чат 1 раз за 30 дней' }).waitFor();
  const text = await notice.textContent();
  assert.ok(!text.includes('травл') && !text.includes('Сергеев'), text);
  assert.deepEqual(student.problems, []);
});
