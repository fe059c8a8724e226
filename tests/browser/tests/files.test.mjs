// Files and search as people meet them: the class teacher of 5А attaches a
// phone photo (with GPS tags) and a permission slip (PDF) to one message; a
// student of 5А sees the photo's preview and downloads the PDF; the photo
// that reaches her has no GPS tags; a search with another form of a word
// finds the message and opens it in its chat, far back in the history; a
// parent outside the chat gets 403 for the file's address. A phone video
// with its location sent to the class plays in the student's chat and
// reaches her without the location.
//
// Three people link a profile: 3 codes, each on its own phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, newPage, screenshot, repoRoot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';

let server;
let browser;
let teacher;
let student;
let parent;

const PHOTO = readFileSync(path.join(repoRoot, 'tests', 'browser', 'fixtures', 'photo-gps.jpg'));
const VIDEO = readFileSync(path.join(repoRoot, 'crates', 'blobs', 'fixtures', 'phone.mp4'));
const HEIC = readFileSync(path.join(repoRoot, 'crates', 'blobs', 'fixtures', 'iphone.heic'));
const AVIF = readFileSync(path.join(repoRoot, 'crates', 'blobs', 'fixtures', 'photo.avif'));
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const TEXT = 'Фото с урока и разрешение на экскурсию: подпишите до пятницы';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Her scripted burst of messages may meet flood control (429) and wait.
  teacher = await newPage(browser, server.url, { expectStatuses: [429] });
  student = await newPage(browser, server.url);
  parent = await newPage(browser, server.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 310-00-01' });
  await linkAndOpenMessenger(student.page, { login: 'malysheva.ev', phone: '+7 912 310-00-02' });
  const mother = server.accounts.find((a) => a.role === 'guardian' && !a.note.includes('учитель'));
  await linkAndOpenMessenger(parent.page, { login: mother.login, phone: '+7 912 310-00-03' });
});

after(async () => {
  for (const p of [teacher, student, parent]) await p?.context.close();
  await browser?.close();
  await server?.stop();
});

function row(page, name) {
  return page.getByTestId('chat-row').filter({ has: page.locator('.pm-row-name').getByText(name, { exact: true }) });
}

async function openChat(page, name) {
  await row(page, name).click();
  await page.getByRole('heading', { level: 2, name }).waitFor();
}

function message(page, text) {
  return page.getByTestId('message').filter({ has: page.locator('.pm-text', { hasText: text }) });
}

let chatId;
let photoId;
let pdfId;

test('the teacher attaches a photo and a PDF, with progress, and sends them with one message', async () => {
  const p = teacher.page;
  await openChat(p, '5А класс');
  chatId = Number(await p.locator('.pm-conv').getAttribute('data-chat'));
  await p.getByTestId('file-input').setInputFiles([
    { name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: PHOTO },
    { name: 'Разрешение на экскурсию.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  const items = p.getByTestId('tray-item');
  await assert.doesNotReject(items.nth(1).waitFor());
  await p.locator('[data-testid="tray-item"][data-state="done"]').nth(1).waitFor();
  await p.getByTestId('composer').fill(TEXT);
  await p.getByTestId('composer').press('Enter');
  const sent = message(p, TEXT);
  await sent.getByTestId('photo').waitFor();
  await sent.getByTestId('file').waitFor();
  assert.equal(await p.getByTestId('tray-item').count(), 0, 'the tray empties after the send');
  await screenshot(p, 'files-teacher');
  assert.deepEqual(teacher.problems, []);
});

test('the student sees the preview, downloads the PDF, and the photo has no GPS tags', async () => {
  const p = student.page;
  await openChat(p, '5А класс');
  const msg = message(p, TEXT);
  const img = msg.getByTestId('photo');
  await img.waitFor();
  await p.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  const naturalWidth = await img.evaluate((el) => el.naturalWidth);
  assert.ok(naturalWidth > 0 && naturalWidth <= 320, `a thumbnail, not the photo: ${naturalWidth}`);
  const link = msg.getByTestId('file');
  assert.match(await link.textContent(), /Разрешение на экскурсию\.pdf/);
  const [download] = await Promise.all([p.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'Разрешение на экскурсию.pdf');
  const saved = readFileSync(await download.path());
  assert.deepEqual(saved, PDF);

  const page = await (await fetch(`${server.url}/api/messenger/chats/${chatId}/messages`, {
    headers: { cookie: (await student.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') },
  })).json();
  const attachments = page.messages.find((m) => m.text === TEXT).attachments;
  photoId = attachments.find((a) => a.kind === 'image').id;
  pdfId = attachments.find((a) => a.kind === 'file').id;
  const photo = await p.request.get(`/api/messenger/files/${photoId}`);
  assert.equal(photo.status(), 200);
  assert.equal(photo.headers()['x-content-type-options'], 'nosniff');
  const bytes = await photo.body();
  assert.ok(PHOTO.includes(Buffer.from('GPS')), 'the original had GPS tags');
  assert.ok(!bytes.includes(Buffer.from('GPS')), 'what the student gets has none');
  const pdf = await p.request.get(`/api/messenger/files/${pdfId}`);
  assert.match(pdf.headers()['content-disposition'], /^attachment;/);
  await screenshot(p, 'files-student');
  assert.deepEqual(student.problems, []);
});

test('a phone video sent to the class plays for the student, without its location', async () => {
  const caption = 'Видео с прогулки в парке';
  const t = teacher.page;
  await t.getByTestId('file-input').setInputFiles([{ name: 'VID_20261205.mp4', mimeType: 'video/mp4', buffer: VIDEO }]);
  await t.locator('[data-testid="tray-item"][data-state="done"]').waitFor();
  await t.getByTestId('composer').fill(caption);
  await t.getByTestId('composer').press('Enter');
  await message(t, caption).getByTestId('video').waitFor();

  const p = student.page;
  const msg = message(p, caption);
  const video = msg.getByTestId('video');
  await video.waitFor();
  // The browser's player read the cleaned file: its streams and duration are there.
  await p.waitForFunction((el) => el.readyState >= 1, await video.elementHandle());
  const duration = await video.evaluate((el) => el.duration);
  assert.ok(Math.abs(duration - 1) < 0.1, `a one-second video: ${duration}`);
  assert.equal(await video.evaluate((el) => el.videoWidth), 96);
  await video.scrollIntoViewIfNeeded();
  await screenshot(p, 'files-video');

  const src = await video.getAttribute('src');
  const res = await p.request.get(src);
  assert.equal(res.headers()['content-type'], 'video/mp4');
  const bytes = await res.body();
  assert.equal(bytes.length, VIDEO.length, 'blanked in place');
  for (const secret of ['Pixel 7', '+55.7558']) {
    assert.ok(VIDEO.includes(Buffer.from(secret)), `the phone's file has ${secret}`);
    assert.ok(!bytes.includes(Buffer.from(secret)), `what the student gets has no ${secret}`);
  }
  assert.deepEqual(student.problems, []);
  assert.deepEqual(teacher.problems, []);
});

test('iPhone photos arrive: AVIF shown by the browser, HEIC (which Chromium cannot decode) as a tile to download', async () => {
  const caption = 'Снимки с телефона';
  const t = teacher.page;
  await t.getByTestId('file-input').setInputFiles([
    { name: 'IMG_0001.HEIC', mimeType: 'image/heic', buffer: HEIC },
    { name: 'IMG_0002.AVIF', mimeType: 'image/avif', buffer: AVIF },
  ]);
  await t.locator('[data-testid="tray-item"][data-state="done"]').nth(1).waitFor();
  await t.getByTestId('composer').fill(caption);
  await t.getByTestId('composer').press('Enter');

  const p = student.page;
  const msg = message(p, caption);
  const avif = msg.getByRole('img', { name: 'Фото: IMG_0002.AVIF' });
  await avif.waitFor();
  await p.waitForFunction((el) => el.complete && el.naturalWidth > 0, await avif.elementHandle());
  assert.equal(await avif.evaluate((el) => el.naturalWidth), 64);
  const tile = msg.getByTestId('photo-tile');
  await tile.waitFor();
  assert.match(await tile.textContent(), /IMG_0001\.HEIC.*Скачайте/);
  const [download] = await Promise.all([p.waitForEvent('download'), tile.click()]);
  const saved = readFileSync(await download.path());
  assert.equal(saved.length, HEIC.length);
  assert.ok(HEIC.includes(Buffer.from('iPhone 15 Pro')) && !saved.includes(Buffer.from('iPhone 15 Pro')), 'no device in the download');
  await msg.scrollIntoViewIfNeeded();
  await screenshot(p, 'files-heic-avif');
  assert.deepEqual(student.problems, []);
});

test('a search with another word form finds the message and jumps to it far back in the chat', async () => {
  // Sixty newer messages push it out of the first page of history.
  await teacher.page.evaluate(async (chat) => {
    for (let i = 0; i < 60; i += 1) {
      const body = JSON.stringify({ client_id: `filler-${i}`, text: `Сообщение номер ${i}` });
      // A script outpaces any person: it waits as flood control says.
      for (;;) {
        const res = await fetch(`/api/messenger/chats/${chat}/messages`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
        });
        if (res.status !== 429) break;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      }
    }
  }, chatId);
  const p = student.page;
  await p.reload();
  await p.getByTestId('chat-row').first().waitFor();
  await p.getByTestId('search-messages').click();
  await p.getByTestId('search-query').fill('экскурсии');
  await p.getByTestId('search-query').press('Enter');
  const result = p.getByTestId('search-result').first();
  await result.waitFor();
  assert.equal(await result.locator('mark').first().textContent(), 'экскурсию');
  await result.click();
  await p.getByRole('heading', { level: 2, name: '5А класс' }).waitFor();
  const target = message(p, TEXT);
  await target.waitFor();
  await p.waitForFunction((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && document.activeElement === el;
  }, await target.elementHandle());
  await screenshot(p, 'files-search-jump');
  assert.deepEqual(student.problems, []);
});

test('a parent outside the chat gets 403 for the file addresses', async () => {
  const p = parent.page;
  for (const path of [`/api/messenger/files/${pdfId}`, `/api/messenger/files/${photoId}`, `/api/messenger/files/${photoId}/thumbnail`]) {
    const res = await p.request.get(path);
    assert.equal(res.status(), 403, path);
    assert.equal((await res.json()).code, 'file_forbidden');
  }
  await p.getByTestId('search-messages').click();
  await p.getByTestId('search-query').fill('экскурсия');
  await p.getByTestId('search-query').press('Enter');
  await p.getByText('Ничего не нашлось. Попробуйте другое слово.').waitFor();
  assert.deepEqual(parent.problems, []);
});
