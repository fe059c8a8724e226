// The messenger as an app that reaches a closed tab (issue 19): the mother
// (Малышева Карина) opens Parta Мессенджер on a phone-sized screen; its
// service worker registers for /messenger, the manifest makes it installable,
// and the settings offer «Уведомления на этом устройстве». A push delivered to
// the worker as a push service delivers it (DevTools protocol
// `ServiceWorker.deliverPushMessage`, the payload the server sends) shows the
// teacher's message as a notification, and tapping it opens that chat. In
// «Родители 5А» she hears only the teacher and mentions until she chooses
// otherwise, and mutes the chat for eight hours; the teacher (Донская
// Эльмира) mentions her with «@», which gets through any mute.
// (The browser's own subscription needs its vendor's push service on the
// internet; the server's side of it is proven in crates/server/tests/push.rs.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { until } from '../lib/calls.mjs';
import { openChat, message } from '../lib/chat.mjs';

let server;
let browser;
let mother;
let teacher;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  mother = await newPage(browser, server.url, { width: 360, height: 740 });
  await mother.context.grantPermissions(['notifications'], { origin: server.url });
  await linkAndOpenMessenger(mother.page, { login: 'malysheva.kd', phone: '+7 912 500-00-02' });
});

after(async () => {
  await teacher?.context.close();
  await mother?.context.close();
  await browser?.close();
  await server?.stop();
});

test('the messenger is an installable app whose worker keeps /messenger', async () => {
  const { page } = mother;
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  assert.equal(scope, `${server.url}/messenger`);
  const manifest = await page.evaluate(async () => {
    const href = document.querySelector('link[rel="manifest"]').href;
    const res = await fetch(href);
    return { type: res.headers.get('content-type'), body: await res.json() };
  });
  assert.equal(manifest.type, 'application/manifest+json');
  assert.equal(manifest.body.name, 'Parta Мессенджер');
  assert.equal(manifest.body.display, 'standalone');
  assert.equal(manifest.body.start_url, '/messenger');
  for (const icon of manifest.body.icons) {
    const status = await page.evaluate(async (src) => (await fetch(src)).status, icon.src);
    assert.equal(status, 200, icon.src);
  }
});

test('the settings offer notifications on this device', async () => {
  const { page } = mother;
  await page.goto('/messenger#/settings');
  const card = page.getByTestId('set-push');
  await card.getByRole('heading', { name: 'Уведомления на этом устройстве' }).waitFor();
  await card.getByRole('button', { name: 'Включить уведомления' }).waitFor();
  const previews = card.getByRole('checkbox', { name: 'Показывать текст сообщения в уведомлениях' });
  assert.equal(await previews.isChecked(), true, 'previews are shown by default');
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/push/settings') && r.request().method() === 'PUT'),
    previews.uncheck(),
  ]);
  await page.reload();
  await card.getByRole('checkbox', { name: 'Показывать текст сообщения в уведомлениях' }).waitFor();
  assert.equal(await card.getByRole('checkbox', { name: 'Показывать текст сообщения в уведомлениях' }).isChecked(), false);
  await screenshot(page, 'push-settings-phone');
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= 360, `scrollWidth ${width} > 360`);
});

test('a pushed message shows a notification and tapping it opens the chat', async () => {
  const { page, context } = mother;
  const chats = await page.evaluate(async () => (await fetch('/api/messenger/chats')).json());
  const chat = chats.find((c) => c.name === 'Родители 5А');
  assert.ok(chat, 'the mother is in «Родители 5А»');

  const cdp = await context.newCDPSession(page);
  const registrationId = await new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const r = registrations.find((x) => x.scopeURL === `${server.url}/messenger` && !x.isDeleted);
      if (r) resolve(r.registrationId);
    });
    cdp.send('ServiceWorker.enable');
  });
  const payload = {
    v: 1, type: 'message', chat: chat.id, chat_name: 'Родители 5А', direct: false,
    message: 1, seq: 1, sender: 'Донская Эльмира', preview: 'Завтра уроки до 13:00',
  };
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: server.url, registrationId, data: JSON.stringify(payload),
  });
  const shown = await until(async () => {
    const list = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications())
      .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })));
    return list.length ? list : null;
  }, 'the notification', 10_000);
  assert.deepEqual(shown, [{
    title: 'Родители 5А',
    body: 'Донская Эльмира: Завтра уроки до 13:00',
    tag: `parta-chat-${chat.id}`,
    data: { url: `/messenger#/chat/${chat.id}`, chat: chat.id },
  }]);

  // The tap: the worker's own handler (a headless browser has no
  // notification to click), with the notification it showed.
  const worker = context.serviceWorkers().find((w) => w.url().endsWith('/sw.js'));
  await worker.evaluate(async () => {
    const [n] = await self.registration.getNotifications();
    await openChatOf(n);
  });
  await page.waitForURL(`**/messenger#/chat/${chat.id}`);
  await page.getByRole('heading', { name: 'Родители 5А' }).first().waitFor();
  assert.deepEqual(mother.problems, []);
});

test('in a parents\' chat a parent hears the teacher and mentions, and can mute it for eight hours', async () => {
  const { page } = mother;
  const chats = await page.evaluate(async () => (await fetch('/api/messenger/chats')).json());
  const chat = chats.find((c) => c.name === 'Родители 5А');
  // On a phone an open chat fills the screen: it is opened by its address.
  const open = async () => {
    await page.goto(`/messenger#/chat/${chat.id}`);
    // The panel stays open across a visit elsewhere, as the chat does.
    const info = page.getByTestId('chat-info');
    if (await info.getAttribute('aria-expanded') !== 'true') await info.click();
  };
  await open();
  const section = page.getByTestId('members-panel').getByTestId('chat-notifications');
  const important = section.getByRole('radio', { name: 'Только от учителя и упоминания (по умолчанию)' });
  await important.waitFor();
  assert.equal(await important.isChecked(), true);
  await section.getByRole('radio', { name: 'Без уведомлений на 8 часов' }).check();
  await section.getByTestId('muted-until').getByText(/Без уведомлений до .*Упоминания вас всё равно придут/).waitFor();
  await screenshot(page, 'chat-notifications-phone');

  // The choice is the server's: it is there when the panel is opened again.
  await page.goto('/messenger#/settings');
  await open();
  const again = page.getByTestId('members-panel').getByTestId('chat-notifications');
  await again.getByTestId('muted-until').waitFor();
  assert.equal(await again.getByRole('radio', { name: 'Без уведомлений на 8 часов' }).isChecked(), true);
  await again.getByRole('radio', { name: 'Все сообщения' }).check();
  await page.getByRole('status').getByText('Уведомления: Все сообщения.').waitFor();
  assert.equal(await again.getByTestId('muted-until').count(), 0);
  assert.deepEqual(mother.problems, []);
});

test('typing «@» offers the chat\'s members and the mention is marked in the message', async () => {
  teacher = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 500-00-01' });
  const { page } = teacher;
  await openChat(page, 'Родители 5А');
  const composer = page.getByTestId('composer');
  await composer.click();
  await composer.pressSequentially('Спасибо, @Мал');
  const picker = page.getByTestId('mention-picker');
  await picker.getByRole('option', { name: 'Карина Малышева' }).waitFor();
  await composer.press('Enter');
  assert.equal(await composer.inputValue(), 'Спасибо, @Карина Малышева ');
  await composer.pressSequentially('за помощь!');
  await composer.press('Enter');
  await message(page, 'за помощь!').locator('.pm-mention', { hasText: '@Карина Малышева' }).waitFor();
  const chats = await page.evaluate(async () => (await fetch('/api/messenger/chats')).json());
  const chat = chats.find((c) => c.name === 'Родители 5А');
  const mentions = await until(async () => {
    const history = await page.evaluate(async (id) => (await fetch(`/api/messenger/chats/${id}/messages?limit=5`)).json(), chat.id);
    const m = history.messages.find((x) => x.text.endsWith('за помощь!'));
    return m?.mentions.length ? m.mentions : null;
  }, 'the stored mention', 10_000);
  assert.equal(mentions.length, 1, 'the mother is mentioned');
  assert.deepEqual(teacher.problems, []);
});
