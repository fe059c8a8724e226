// Two Parta nodes on one database and a NATS server: the demo (node A) and
// `parta serve` on the same data (node B). The class teacher of 5А has the
// messenger open on node A, Малышева Ева on node B (the same session works
// on every node). The teacher's video call lives on node A; Ева joins it from
// the banner on node B, and both pages receive each other's sound and
// picture (RTCPeerConnection.getStats()). A message Ева sends on node B
// reaches the teacher on node A.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startNode, startNats, launchBrowser, newPage, screenshot } from '../lib/server.mjs';
import { linkAndOpenMessenger } from '../lib/partaid.mjs';
import { openChat, message, send } from '../lib/chat.mjs';
import { inCall, receiving } from '../lib/calls.mjs';

let nats;
let nodeA;
let nodeB;
let browser;
let teacher;
let eva;

before(async () => {
  nats = await startNats();
  const env = { PARTA_NATS_URL: nats.url };
  nodeA = await startServer({ env });
  nodeB = await startNode({ data: nodeA.data, env });
  browser = await launchBrowser({ calls: true });
  teacher = await newPage(browser, nodeA.url);
  eva = await newPage(browser, nodeA.url);
  await linkAndOpenMessenger(teacher.page, { login: 'donskaya.ef', phone: '+7 912 600-00-01' });
  await linkAndOpenMessenger(eva.page, { login: 'malysheva.ev', phone: '+7 912 600-00-02' });
  // Ева's messenger moves to node B, as a load balancer might send her.
  await eva.page.goto(`${nodeB.url}/messenger`);
  await eva.page.getByTestId('chat-row').first().waitFor();
});

after(async () => {
  for (const p of [teacher, eva]) await p?.context.close();
  await browser?.close();
  await nodeB?.stop();
  await nodeA?.stop();
  await nats?.stop();
});

test('a message written on node B reaches the teacher on node A', async () => {
  await openChat(teacher.page, '5А класс');
  await openChat(eva.page, '5А класс');
  await send(eva.page, 'Пишу с другого узла');
  await message(teacher.page, 'Пишу с другого узла').waitFor();
  assert.deepEqual(teacher.problems, []);
  assert.deepEqual(eva.problems, []);
});

test('the teacher\'s video call lives on node A; Ева joins it from node B and both see and hear each other', async () => {
  const t = teacher.page;
  await t.getByRole('button', { name: 'Видеозвонок', exact: true }).click();
  await inCall(t, 1);
  const banner = eva.page.getByTestId('call-banner');
  await banner.getByText(/^Идёт звонок · \d участник/).waitFor();
  await banner.getByRole('button', { name: 'Присоединиться' }).click();
  await inCall(t, 2);
  await inCall(eva.page, 2);
  await receiving([t, eva.page], { audio: 1, video: 1 });
  await screenshot(eva.page, 'cluster-call-node-b');
  assert.deepEqual(teacher.problems, []);
  assert.deepEqual(eva.problems, []);
});
