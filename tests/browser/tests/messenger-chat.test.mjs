// Parta Мессенджер's chats between two real people: the class teacher of 5А
// (Донская Эльмира Филимоновна, the chat admin of «5А класс») and a student
// of 5А (Малышева Ева Викторовна), each in their own browser, both linked
// through the school portal. Messages, replies, reactions, edits, deletes,
// read marks and unread counts go live from one page to the other; the
// announcement-only switch, the direct-message policy, a lost network and
// long history are tried as a person would meet them.
//
// This file asks for 2 codes (limits: 1 a minute and 5 an hour per phone, 20
// an hour per address). The tests run in order and share the two people.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { row, message, openChat, send } from '../lib/chat.mjs';

let server;
let browser;
/** {context, page, problems} of the class teacher and of the student. */
let teacher;
let student;

const TEACHER = 'Донская Эльмира Филимоновна';
const STUDENT = 'Малышева Ева Викторовна';
/** How a direct chat is named for the other person. */
const TEACHER_DIRECT = 'Донская Эльмира';
const STUDENT_DIRECT = 'Малышева Ева';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Her scripted bursts of messages may meet flood control (429) and wait.
  teacher = await newPage(browser, server.url, { expectStatuses: [429] });
  student = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 300-00-01' });
  await linkAndOpenMessenger(student.page, { login: 'malysheva.ev', phone: '+7 912 300-00-02' });
});

after(async () => {
  await teacher?.context.close();
  await student?.context.close();
  await browser?.close();
  await server?.stop();
});

/** Opens a message's menu with its ⋯ button (shown on hover). */
async function menuOf(page, msg) {
  await msg.hover();
  await msg.locator('.pm-more').click();
  const menu = page.getByRole('menu', { name: 'Действия с сообщением' });
  await menu.waitFor();
  return menu;
}

async function chatsJson(page) {
  return page.evaluate(() => fetch('/api/messenger/chats').then((r) => r.json()));
}

function noProblems() {
  assert.deepEqual(teacher.problems, []);
  assert.deepEqual(student.problems, []);
}

test('the class teacher posts in «5А класс»: the student sees it live with an unread badge, opens it, and the teacher sees it read', async () => {
  const t = teacher.page;
  const s = student.page;
  await openChat(t, '5А класс');
  await t.getByText('2 участника').waitFor();
  await send(t, 'Добрый день! Завтра экскурсия в краеведческий музей, сбор в 9:00 у школы.');
  const own = message(t, 'Завтра экскурсия');
  // Committed: one tick.
  await own.locator('[data-status="sent"]').waitFor();
  assert.equal(await t.getByTestId('composer').inputValue(), '');

  // The student is on her chat list: the chat comes first with a badge.
  const r = row(s, '5А класс');
  await r.getByTestId('unread').getByText('1', { exact: true }).waitFor();
  await r.getByText('Донская Эльмира: Добрый день! Завтра экскурсия', { exact: false }).waitFor();
  assert.equal(await s.getByTestId('chat-row').first().locator('.pm-row-name').textContent(), '5А класс');
  await s.waitForFunction(() => document.title === '(1) Parta Мессенджер');

  await openChat(s, '5А класс');
  const theirs = message(s, 'Завтра экскурсия');
  await theirs.getByText('Донская Эльмира').waitFor();
  await s.getByRole('heading', { level: 3, name: 'Сегодня' }).waitFor();
  await r.getByTestId('unread').waitFor({ state: 'detached' });
  await s.waitForFunction(() => !document.title.startsWith('('));

  // Read: in a group chat its admin sees who read it (✓✓ is for direct chats).
  await own.getByTestId('receipts').filter({ hasText: 'Прочитали 1 из 1' }).waitFor();
  assert.equal(await own.locator('[data-status="read"]').count(), 0);
  await screenshot(t, 'messenger-chat-desktop-teacher');
  noProblems();
});

test('the student replies and reacts; the teacher sees the reply with its quote, the reaction, and «печатает…»', async () => {
  const t = teacher.page;
  const s = student.page;
  // A right click opens the menu too.
  await message(s, 'Завтра экскурсия').click({ button: 'right' });
  await s.getByRole('menu').getByRole('menuitem', { name: 'Ответить' }).click();
  await s.getByText('Ответ: Донская Эльмира').waitFor();
  await send(s, 'Спасибо! Во сколько вернёмся?');
  const reply = message(s, 'Во сколько вернёмся');
  await reply.getByTestId('quote').getByText('Добрый день! Завтра экскурсия', { exact: false }).waitFor();
  await reply.locator('[data-status="sent"], [data-status="read"]').waitFor();

  const menu = await menuOf(s, message(s, 'Завтра экскурсия'));
  await menu.getByRole('menuitemcheckbox', { name: 'Реакция 👍' }).click();
  await message(s, 'Завтра экскурсия').getByRole('button', { name: '👍: 1, в том числе ваша' }).waitFor();

  const theirReply = message(t, 'Во сколько вернёмся');
  await theirReply.getByText('Малышева Ева').waitFor();
  // Screen readers hear it: the open chat's new messages go to a live region.
  await t.getByTestId('live').getByText('Малышева Ева: Спасибо! Во сколько вернёмся?').waitFor();
  assert.equal(await t.getByTestId('live').getAttribute('aria-live'), 'polite');
  await theirReply.getByTestId('quote').getByText('Донская Эльмира').waitFor();
  const chip = message(t, 'Завтра экскурсия').getByRole('button', { name: '👍: 1' });
  assert.equal(await chip.getAttribute('aria-pressed'), 'false');
  // The teacher adds hers by clicking the chip; the student sees two.
  await chip.click();
  await message(t, 'Завтра экскурсия').getByRole('button', { name: '👍: 2, в том числе ваша' }).waitFor();
  await message(s, 'Завтра экскурсия').getByRole('button', { name: '👍: 2, в том числе ваша' }).waitFor();

  // A click on the quote goes to the original.
  await theirReply.getByTestId('quote').click();
  await t.waitForFunction(() => document.activeElement?.classList.contains('pm-msg')
    && document.activeElement.textContent.includes('Завтра экскурсия'));

  // Typing shows in the header (and the list), as a person types: key by key.
  await s.getByTestId('composer').pressSequentially('Ещё вопрос про автобус', { delay: 200 });
  await t.getByTestId('chat-sub').getByText('Ева печатает…').waitFor();
  await s.getByTestId('composer').fill('');
  noProblems();
});

test('an edit and deletes (the author\'s and the chat admin\'s) reach the other page', async () => {
  const t = teacher.page;
  const s = student.page;
  const menu = await menuOf(t, message(t, 'Завтра экскурсия'));
  await menu.getByRole('menuitem', { name: 'Изменить' }).click();
  await t.getByText('Редактирование сообщения').waitFor();
  await t.getByTestId('composer').fill('Добрый день! Завтра экскурсия в краеведческий музей, сбор в 8:45 у школы.');
  await t.getByTestId('composer').press('Enter');
  await message(s, 'сбор в 8:45').getByText('изменено').waitFor();
  assert.equal(await message(s, 'сбор в 9:00').count(), 0);
  // The student's quote of it follows.
  await message(s, 'Во сколько вернёмся').getByTestId('quote').getByText('сбор в 8:45', { exact: false }).waitFor();

  // The student takes her reply back, after confirming.
  const m = await menuOf(s, message(s, 'Во сколько вернёмся'));
  await m.getByRole('menuitem', { name: 'Удалить' }).click();
  const dialog = s.getByRole('dialog', { name: 'Удалить сообщение?' });
  await dialog.getByText('Сообщение исчезнет у всех участников чата', { exact: false }).waitFor();
  await dialog.getByRole('button', { name: 'Удалить' }).click();
  await t.getByTestId('message').filter({ hasText: 'Сообщение удалено' }).waitFor();
  assert.equal(await message(t, 'Во сколько вернёмся').count(), 0);
  await s.getByTestId('message').filter({ hasText: 'Сообщение удалено' }).waitFor();

  // The teacher, the chat's admin, removes somebody else's message.
  await send(s, 'Ой, это не сюда');
  const wrong = message(t, 'Ой, это не сюда');
  const tm = await menuOf(t, wrong);
  // Not hers: no «Изменить», but «Удалить» and «Закрепить» (an admin).
  assert.equal(await tm.getByRole('menuitem', { name: 'Изменить' }).count(), 0);
  await tm.getByRole('menuitem', { name: 'Закрепить' }).waitFor();
  await tm.getByRole('menuitem', { name: 'Удалить' }).click();
  await t.getByRole('dialog', { name: 'Удалить сообщение?' }).getByText('«Малышева Ева Викторовна»', { exact: false }).waitFor();
  await t.getByRole('dialog').getByRole('button', { name: 'Удалить' }).click();
  await message(s, 'Ой, это не сюда').waitFor({ state: 'detached' });
  assert.equal(await s.getByTestId('message').filter({ hasText: 'Сообщение удалено' }).count(), 2);
  // A student cannot pin or delete the teacher's words.
  const sm = await menuOf(s, message(s, 'сбор в 8:45'));
  assert.equal(await sm.getByRole('menuitem', { name: 'Закрепить' }).count(), 0);
  assert.equal(await sm.getByRole('menuitem', { name: 'Удалить' }).count(), 0);
  await s.keyboard.press('Escape');
  noProblems();
});

test('the teacher pins her message: a pinned bar for both, and a click on it scrolls to the message', async () => {
  const t = teacher.page;
  const s = student.page;
  const m = await menuOf(t, message(t, 'сбор в 8:45'));
  await m.getByRole('menuitem', { name: 'Закрепить' }).click();
  await t.getByTestId('pinned-bar').getByText('сбор в 8:45', { exact: false }).waitFor();
  const bar = s.getByTestId('pinned-bar');
  await bar.getByText('Закреплённое сообщение').waitFor();
  await bar.click();
  await s.waitForFunction(() => document.activeElement?.classList.contains('pm-msg')
    && document.activeElement.textContent.includes('сбор в 8:45'));
  noProblems();
});

test('keyboard: arrows move through the messages, Enter opens the menu, Escape closes it and gives the focus back', async () => {
  const s = student.page;
  await s.getByTestId('feed').focus();
  // From the newest up: two tombstones, then the teacher's message.
  for (let i = 0; i < 3; i += 1) await s.keyboard.press('ArrowUp');
  const focused = () => s.evaluate(() => document.activeElement?.closest('.pm-msg')?.querySelector('.pm-text')?.textContent);
  assert.match(await focused(), /сбор в 8:45/);
  await s.keyboard.press('Enter');
  const menu = s.getByRole('menu', { name: 'Действия с сообщением' });
  await menu.waitFor();
  assert.equal(await s.evaluate(() => document.activeElement?.getAttribute('role')), 'menuitem');
  await s.keyboard.press('ArrowDown');
  await s.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.match(await focused(), /сбор в 8:45/);
  assert.equal(await s.evaluate(() => document.activeElement?.dataset.testid), 'message');
  noProblems();
});

test('announcement-only: the student\'s composer says why she cannot post, and a post she wrote offline is refused with the server\'s message', async () => {
  const t = teacher.page;
  const s = student.page;
  await student.context.setOffline(true);
  await s.getByTestId('connection').getByText('Нет сети').waitFor();
  await send(s, 'А можно взять с собой телефон?');
  const pending = message(s, 'можно взять с собой телефон');
  await pending.locator('[data-status="sending"]').waitFor();

  // Meanwhile the teacher makes the chat announcement-only.
  await t.getByTestId('chat-info').click();
  const panel = t.getByTestId('members-panel');
  await panel.getByText(STUDENT).waitFor();
  const sw = panel.getByRole('switch', { name: 'Писать могут только администраторы' });
  assert.equal(await sw.getAttribute('aria-checked'), 'false');
  await sw.click();
  await t.getByRole('status').getByText('Теперь писать в чат могут только администраторы.').waitFor();
  await screenshot(t, 'messenger-chat-members');
  await t.getByRole('button', { name: 'Закрыть список участников' }).click();
  // The admin herself still writes.
  await t.getByTestId('composer').waitFor();

  await student.context.setOffline(false);
  await s.getByTestId('connection').getByText('Нет сети').waitFor({ state: 'detached' });
  // The send went out on reconnect and the server refused it: shown under it, with a retry.
  const error = pending.getByTestId('send-error');
  await error.getByText('Писать в этот чат могут только администраторы чата.').waitFor();
  await error.getByRole('button', { name: 'Повторить' }).waitFor();
  await pending.locator('[data-status="failed"]').waitFor();
  await s.getByTestId('composer-locked').getByText('Писать в этот чат могут только администраторы чата').waitFor();
  assert.equal(await s.getByTestId('composer').count(), 0);
  assert.equal(await message(t, 'можно взять с собой телефон').count(), 0);
  // Reacting is still allowed.
  await (await menuOf(s, message(s, 'сбор в 8:45'))).getByRole('menuitemcheckbox', { name: 'Реакция 🎉' }).click();
  await message(t, 'сбор в 8:45').getByRole('button', { name: '🎉: 1' }).waitFor();

  // The student drops the refused message; the teacher opens the chat again.
  await error.getByRole('button', { name: 'Удалить' }).click();
  await pending.waitFor({ state: 'detached' });
  await t.getByTestId('chat-info').click();
  await panel.getByRole('switch', { name: 'Писать могут только администраторы' }).click();
  await t.getByRole('status').getByText('Теперь писать в чат могут все участники.').waitFor();
  await t.getByRole('button', { name: 'Закрыть список участников' }).click();
  await s.getByTestId('composer').waitFor();
  noProblems();
});

test('offline: «Нет сети» shows, and messages written meanwhile — one even sent just before — arrive exactly once', async () => {
  const t = teacher.page;
  const s = student.page;
  // The first send leaves on the open socket just before the network goes;
  // if its acknowledgement is lost, it goes again with the same client_id.
  await send(s, 'Я тоже поеду!');
  await student.context.setOffline(true);
  await s.getByTestId('connection').getByText('Нет сети').waitFor();
  await s.getByTestId('chat-sub').getByText('Нет сети').waitFor();
  await send(s, 'И возьму бутерброды.');
  await message(s, 'возьму бутерброды').locator('[data-status="sending"]').waitFor();
  await screenshot(s, 'messenger-chat-offline');
  await t.waitForTimeout(800);
  assert.equal(await message(t, 'возьму бутерброды').count(), 0);

  await student.context.setOffline(false);
  await s.getByTestId('connection').getByText('Нет сети').waitFor({ state: 'detached' });
  await message(t, 'возьму бутерброды').waitFor();
  await message(t, 'Я тоже поеду').waitFor();
  await message(s, 'возьму бутерброды').locator('[data-status="sent"], [data-status="read"]').waitFor();
  await s.waitForTimeout(500);
  for (const [page, text] of [[t, 'Я тоже поеду'], [t, 'возьму бутерброды'], [s, 'Я тоже поеду'], [s, 'возьму бутерброды']]) {
    assert.equal(await message(page, text).count(), 1, text);
  }
  // The server has each once, in the order they were written.
  const chat = (await chatsJson(s)).find((c) => c.name === '5А класс');
  const history = await s.evaluate((id) => fetch(`/api/messenger/chats/${id}/messages`).then((r) => r.json()), chat.id);
  const texts = history.messages.map((m) => m.text).filter((x) => /поеду|бутерброды/.test(x));
  assert.deepEqual(texts, ['Я тоже поеду!', 'И возьму бутерброды.']);
  noProblems();
});

test('direct messages: refused with the school\'s reason when its rules forbid them, opened when they allow', async () => {
  const t = teacher.page;
  const s = student.page;
  const org = (await chatsJson(s)).find((c) => c.name === '5А класс').org;
  // The director forbids students to start conversations with teachers (no
  // screen for the rules yet: the portal's API).
  const director = await newPage(browser, server.url);
  try {
    await signIn(director.page, 'sergeev.vr', 'parta2026');
    await director.page.getByRole('heading', { level: 1, name: /^Здравствуйте, / }).waitFor();
    const setRule = (rule) => director.page.evaluate(async ({ o, r }) => {
      const res = await fetch(`/api/orgs/${o}/dm-policy`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([{ from: 'student', to: 'teacher', rule: r }]),
      });
      return res.status;
    }, { o: org, r: rule });
    assert.equal(await setRule('never'), 200);

    await s.getByTestId('chat-info').click();
    const card = s.getByTestId('members-panel').getByRole('listitem').filter({ hasText: TEACHER });
    await card.getByText('Учитель').waitFor();
    // A student is no chat admin: no settings above the list, and no stray «null» in their place.
    assert.doesNotMatch(await s.getByTestId('members-panel').innerText(), /null/);
    await card.getByText('админ').waitFor();
    await card.getByText('в сети', { exact: true }).waitFor();
    await card.getByRole('button', { name: `Написать: ${TEACHER}` }).click();
    await card.getByRole('alert').getByText('Правила школы не разрешают начать личную переписку с этим человеком.', { exact: false }).waitFor();
    await s.getByRole('heading', { level: 2, name: '5А класс' }).waitFor();

    // Allowed again (the default): the direct chat opens.
    assert.equal(await setRule('allowed'), 200);
    await card.getByRole('button', { name: `Написать: ${TEACHER}` }).click();
    await s.getByRole('heading', { level: 2, name: TEACHER_DIRECT }).waitFor();
    await s.getByTestId('chat-sub').getByText('Личный чат').waitFor();
    await send(s, 'Здравствуйте! Можно я задам вопрос лично?');
    await message(s, 'задам вопрос лично').locator('[data-status="sent"], [data-status="read"]').waitFor();

    // The teacher's list gets the new chat, with the student's name and a badge.
    const r = row(t, STUDENT_DIRECT);
    await r.getByTestId('unread').getByText('1', { exact: true }).waitFor();
    await r.getByText('Здравствуйте! Можно я задам вопрос лично?').waitFor();
    await openChat(t, STUDENT_DIRECT);
    await message(t, 'задам вопрос лично').waitFor();
    assert.deepEqual(director.problems, []);

    // With the tab in the background, a new message is a browser notification.
    // (Notifications are allowed and recorded; headless Chromium shows none.)
    await t.evaluate(() => {
      window.shown = [];
      window.Notification = class {
        static get permission() { return 'granted'; }
        constructor(title, options) { window.shown.push({ title, body: options.body }); }
        close() {}
      };
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.hasFocus = () => false;
    });
    await send(s, 'Спасибо, что ответили!');
    await t.waitForFunction(() => window.shown.length === 1);
    assert.deepEqual(await t.evaluate(() => window.shown), [{ title: STUDENT_DIRECT, body: 'Спасибо, что ответили!' }]);
    // Unread while in the background; read once the tab is back.
    await t.waitForFunction(() => document.title === '(1) Малышева Ева — Parta Мессенджер');
    await t.evaluate(() => {
      delete document.visibilityState;
      delete document.hasFocus;
      window.dispatchEvent(new Event('focus'));
    });
    await t.waitForFunction(() => document.title === 'Малышева Ева — Parta Мессенджер');
  } finally {
    await director.context.close();
  }
  noProblems();
});

test('long history loads page by page when scrolling up, and «Новые сообщения» brings a scrolled-up reader down', async () => {
  const t = teacher.page;
  const s = student.page;
  await openChat(t, '5А класс');
  const chat = (await chatsJson(t)).find((c) => c.name === '5А класс');
  // Seventy messages over HTTP: more than one page (50).
  await t.evaluate(async (id) => {
    for (let i = 1; i <= 70; i += 1) {
      const body = JSON.stringify({ client_id: crypto.randomUUID(), text: `Объявление № ${i}.` });
      // A script outpaces any person: it waits as flood control says.
      for (;;) {
        const res = await fetch(`/api/messenger/chats/${id}/messages`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
        });
        if (res.status !== 429) break;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      }
    }
  }, chat.id);
  await s.reload();
  await openChat(s, '5А класс');
  await message(s, 'Объявление № 70.').waitFor();
  assert.equal(await message(s, 'Объявление № 5.').count(), 0);
  // Up to the start: the older pages come.
  for (let i = 0; i < 10 && !(await message(s, 'Объявление № 1.').count()); i += 1) {
    await s.locator('.pm-scroll').evaluate((el) => { el.scrollTop = 0; });
    await s.waitForTimeout(300);
  }
  await message(s, 'Объявление № 1.').waitFor();
  await s.getByText('Начало переписки').waitFor();

  await s.locator('.pm-scroll').evaluate((el) => { el.scrollTop = 0; });
  await send(t, 'Не забудьте сменную обувь');
  const down = s.getByTestId('to-bottom');
  await down.getByText('Новые сообщения').waitFor();
  await down.getByText('1', { exact: true }).waitFor();
  await down.click();
  await s.waitForFunction(() => {
    const el = document.querySelector('.pm-scroll');
    return el.scrollHeight - el.scrollTop - el.clientHeight < 50;
  });
  await down.waitFor({ state: 'hidden' });
  await screenshot(s, 'messenger-chat-desktop-student');
  noProblems();
});

test('at phone width the list and the chat are two screens, with a back button; the interface speaks English too', async () => {
  const phone = await newPage(browser, server.url, { width: 360, height: 740 });
  try {
    await phone.context.addCookies(await student.context.cookies());
    const p = phone.page;
    await p.goto('/messenger');
    await row(p, '5А класс').waitFor();
    await p.getByRole('heading', { level: 1, name: 'Чаты' }).waitFor();
    await screenshot(p, 'messenger-chat-phone-list');
    await openChat(p, '5А класс');
    // The list is gone; the chat fills the screen.
    assert.equal(await row(p, '5А класс').isVisible(), false);
    await message(p, 'Не забудьте сменную обувь').waitFor();
    const box = await p.getByTestId('composer').boundingBox();
    assert.ok(box.y + box.height <= 740 && box.x >= 0 && box.x + box.width <= 360 && box.width > 200, JSON.stringify(box));
    await screenshot(p, 'messenger-chat-phone-chat');
    await (await menuOf(p, message(p, 'Не забудьте сменную обувь'))).getByRole('menuitem', { name: 'Ответить' }).waitFor();
    await screenshot(p, 'messenger-chat-phone-menu');
    await p.keyboard.press('Escape');

    // Shift+Enter is a new line, not a send; what is typed stays as a draft.
    const composer = p.getByTestId('composer');
    await composer.fill('Первая строка');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('вторая');
    assert.equal(await composer.inputValue(), 'Первая строка\nвторая');
    const before = await composer.boundingBox();
    await composer.press('Shift+Enter');
    await composer.pressSequentially('и третья');
    assert.ok((await composer.boundingBox()).height > before.height, 'the composer grows with its text');
    await p.getByRole('link', { name: 'Назад к чатам' }).click();
    await row(p, '5А класс').getByText('Черновик: Первая строка вторая и третья').waitFor();
    await openChat(p, '5А класс');
    assert.equal(await p.getByTestId('composer').inputValue(), 'Первая строка\nвторая\nи третья');
    await p.getByTestId('composer').fill('');
    await p.getByRole('link', { name: 'Назад к чатам' }).click();
    await row(p, '5А класс').waitFor();
    assert.equal(await row(p, '5А класс').getByText('Черновик').count(), 0);

    await p.getByRole('button', { name: 'English' }).click();
    await p.getByRole('heading', { level: 1, name: 'Chats' }).waitFor();
    await p.getByRole('searchbox', { name: 'Search chats' }).fill('класс');
    assert.deepEqual(await p.locator('.pm-row-name').allTextContents(), ['5А класс']);
    await openChat(p, '5А класс');
    await p.getByRole('textbox', { name: 'Message' }).waitFor();
    await p.getByRole('heading', { level: 3, name: 'Today' }).waitFor();
    assert.deepEqual(phone.problems, []);
  } finally {
    await phone.context.close();
  }
  noProblems();
});

test('unlinking in the portal ends the messenger session: the open messenger goes back to the welcome screen at once', async () => {
  const s = student.page;
  const portal = await student.context.newPage();
  await portal.goto('/#/chats');
  await portal.getByRole('button', { name: 'Отвязать учебный профиль' }).click();
  await portal.getByRole('dialog').getByRole('button', { name: 'Отвязать профиль' }).click();
  await portal.getByRole('button', { name: 'Привязать учебный профиль' }).waitFor();
  // The socket said «bye: session_ended»: no reload needed.
  await s.getByRole('heading', { level: 1, name: 'Parta Мессенджер' }).waitFor();
  await s.getByRole('link', { name: 'Войти' }).waitFor();
  assert.equal(await s.getByTestId('messenger').count(), 0);
  await portal.close();
  noProblems();
});
