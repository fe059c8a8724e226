// Starts the real Parta binary in demo mode on a free port with a fresh data
// directory, and a headless Debian Chromium to drive it.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');
export const resultsDir = path.resolve(here, '..', 'test-results');

const STARTUP_TIMEOUT_MS = 60_000;

/**
 * Runs `parta demo --listen 127.0.0.1:0 --data <tmp>` and resolves once it
 * prints "Parta is running at http://…". Returns {url, accounts, data, stop}
 * (`data`: its data directory, `parta.db` in it).
 * `config` is the text of a TOML config file to start it with (small flood
 * limits, say); `env`, environment variables (PARTA_NATS_URL).
 */
export async function startServer({ config, env = {} } = {}) {
  const data = mkdtempSync(path.join(tmpdir(), 'parta-browser-'));
  const args = ['demo', '--listen', '127.0.0.1:0', '--data', data];
  if (config) {
    const file = path.join(data, 'parta.toml');
    writeFileSync(file, config);
    args.push('--config', file);
  }
  const { url, child } = await startParta(args, env);
  const res = await fetch(`${url}/api/dev/demo-accounts`);
  if (!res.ok) throw new Error(`/api/dev/demo-accounts answered ${res.status}`);
  const accounts = await res.json();
  const stop = async () => {
    await stopChild(child);
    rmSync(data, { recursive: true, force: true });
  };
  return { url, accounts, data, stop };
}

/**
 * Another node of a cluster: `parta serve` on the demo's data directory
 * (its SQLite database) with `env` (PARTA_NATS_URL). Returns {url, stop}.
 */
export async function startNode({ data, env }) {
  const { url, child } = await startParta(['serve', '--listen', '127.0.0.1:0', '--data', data], env);
  return { url, stop: () => stopChild(child) };
}

/** A NATS server of the test's own on a free loopback port. Returns {url, stop}. */
export async function startNats() {
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address();
      probe.close(() => resolve(p));
    });
  });
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) || 'nats-server';
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }).on('error', () => resolve(false));
    });
    if (up) return { url: `nats://127.0.0.1:${port}`, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nats-server did not start');
}

async function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Runs the binary with `args` and resolves with its URL once it prints it. */
async function startParta(args, env) {
  const bin = process.env.PARTA_BIN || path.join(repoRoot, 'target', 'debug', 'parta');
  if (!existsSync(bin)) throw new Error(`Parta binary not found at ${bin}: run \`cargo build -p parta\` or set PARTA_BIN`);
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`parta ${args[0]} did not print its URL within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/Parta is running at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk.toString(); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`parta ${args[0]} exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  // Keep draining the pipes so the server never blocks on a full buffer.
  child.stdout.resume();
  child.stderr.resume();
  return { url, child };
}

/**
 * Headless Chromium. `calls: true` gives it a fake camera and microphone
 * (a test pattern and a beep), grants them without asking, and lets WebRTC
 * reach the server's media port on 127.0.0.1.
 */
export async function launchBrowser({ calls = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(calls ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection'] : []),
    ],
  });
}

/** The first demo account with this role (in the first organisation listed for it). */
export function account(accounts, role, org) {
  const a = accounts.find((x) => x.role === role && (!org || x.org === org));
  if (!a) throw new Error(`no demo account with role ${role}${org ? ` in ${org}` : ''}`);
  return a;
}

export async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  await page.screenshot({ path: path.join(resultsDir, `${name}.png`), fullPage: true });
}

/**
 * A fresh browser context (own cookies and localStorage) with a page, plus
 * any console errors or failed requests, which fail the test. Chromium logs
 * every 4xx answer as a console error: `expectStatuses` lists the ones a test
 * provokes on purpose (401 and 403 always pass).
 */
export async function newPage(browser, url, { width = 1280, height = 860, lang, expectStatuses = [] } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, baseURL: url, locale: 'ru-RU' });
  if (lang) {
    await context.addInitScript((l) => localStorage.setItem('parta.lang', l), lang);
  }
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const allowed = new RegExp(`status of (${[401, 403, ...expectStatuses].join('|')})\\b`);
    if (m.type() === 'error' && !allowed.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(15_000);
  return { context, page, problems };
}

/** Signs in through the login form. */
export async function signIn(page, login, password) {
  await page.goto('/');
  await page.getByTestId('login').fill(login);
  await page.getByTestId('password').fill(password);
  await page.getByRole('button', { name: /^(Войти|Sign in)$/ }).click();
}
