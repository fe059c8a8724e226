// @ts-check
// The messenger as an installed app: its service worker (sw.js: the shell
// offline, pushed notifications, a tap opening the chat), «Уведомления на
// этом устройстве» in the settings (Web Push), and «Установить приложение»
// where the browser offers it.

import { api } from './api.js';
import { h, clear } from './dom.js';
import { t, addStrings } from './i18n.js';
import { button, announce, notice } from './ui.js';

addStrings({
  ru: {
    'push.title': 'Уведомления на этом устройстве',
    'push.lead': 'Новые сообщения придут уведомлением, даже когда мессенджер закрыт. Сообщения, которые вы уже прочитали на другом устройстве, не беспокоят.',
    'push.on': 'Уведомления включены на этом устройстве.',
    'push.off': 'Уведомления на этом устройстве выключены.',
    'push.enable': 'Включить уведомления',
    'push.disable': 'Выключить уведомления',
    'push.enabled': 'Уведомления включены.',
    'push.disabled': 'Уведомления выключены.',
    'push.denied': 'Уведомления запрещены в настройках браузера. Разрешите их для этого сайта и попробуйте снова.',
    'push.unsupported': 'Этот браузер не умеет получать уведомления, когда вкладка закрыта. На iPhone сначала добавьте мессенджер на экран «Домой».',
    'push.serverOff': 'На этом сервере уведомления выключены.',
    'push.failed': 'Не получилось включить уведомления. Попробуйте ещё раз.',
    'push.previews': 'Показывать текст сообщения в уведомлениях',
    'push.previewsHint': 'Выключите, если телефон видят другие: в уведомлении останется только, кто написал.',
    'pwa.install': 'Установить приложение',
    'pwa.installed': 'Parta Мессенджер установлен.',
  },
  en: {
    'push.title': 'Notifications on this device',
    'push.lead': 'New messages arrive as notifications even when the messenger is closed. Messages you have already read on another device stay quiet.',
    'push.on': 'Notifications are on on this device.',
    'push.off': 'Notifications are off on this device.',
    'push.enable': 'Turn on notifications',
    'push.disable': 'Turn off notifications',
    'push.enabled': 'Notifications are on.',
    'push.disabled': 'Notifications are off.',
    'push.denied': 'Notifications are blocked in the browser settings. Allow them for this site and try again.',
    'push.unsupported': 'This browser cannot receive notifications while the tab is closed. On an iPhone, add the messenger to the Home Screen first.',
    'push.serverOff': 'Notifications are switched off on this server.',
    'push.failed': 'Notifications could not be turned on. Try again.',
    'push.previews': 'Show the message text in notifications',
    'push.previewsHint': 'Turn off if others see your phone: a notification then says only who wrote.',
    'pwa.install': 'Install the app',
    'pwa.installed': 'Parta Messenger is installed.',
  },
});

const SCOPE = '/messenger';

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/**
 * Registers the service worker, and opens the chat of a tapped notification
 * in this window (the worker posts `open-chat` to an open messenger).
 */
export function startApp(openChat) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: SCOPE }).catch((e) => console.warn('service worker', e));
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'open-chat' && Number.isInteger(event.data.chat)) openChat(event.data.chat);
  });
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration(SCOPE);
  return registration ? registration.pushManager.getSubscription() : null;
}

/** The VAPID key as the bytes `pushManager.subscribe` wants. */
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function enable() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'denied' : 'off';
  const { key } = await api.pushKey();
  // The worker `startApp` registered, once it is active.
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, key)) {
    // Made for another server key (a reinstall): the push service would refuse it.
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await api.subscribePush(subscription.toJSON());
  return 'on';
}

function sameKey(subscription, key) {
  const own = subscription.options?.applicationServerKey;
  if (!own) return true;
  const a = new Uint8Array(own);
  const b = keyBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function disable() {
  const subscription = await currentSubscription();
  if (!subscription) return;
  await api.unsubscribePush(subscription.endpoint).catch(() => {});
  await subscription.unsubscribe();
}

/** «Уведомления на этом устройстве», for the settings page. */
export async function notificationsSection() {
  const body = h('div', { 'data-testid': 'push-state' });
  const draw = async () => {
    clear(body);
    if (!supported()) {
      body.append(notice('info', t('push.unsupported')));
      return;
    }
    if (Notification.permission === 'denied') {
      body.append(notice('warning', t('push.denied')));
      return;
    }
    const on = Notification.permission === 'granted' && await currentSubscription().catch(() => null);
    const act = button(on ? t('push.disable') : t('push.enable'), {
      kind: on ? 'secondary' : 'primary',
      iconName: 'bell',
      onClick: async () => {
        act.disabled = true;
        try {
          if (on) {
            await disable();
            announce(t('push.disabled'));
          } else {
            const outcome = await enable();
            if (outcome === 'on') announce(t('push.enabled'));
            else if (outcome === 'denied') announce(t('push.denied'), { error: true });
          }
        } catch (e) {
          announce(e?.code === 'push_unavailable' ? t('push.serverOff') : (e?.text ? e.text() : t('push.failed')), { error: true });
        }
        await draw();
        body.querySelector('button')?.focus();
      },
    });
    body.append(h('p', null, on ? t('push.on') : t('push.off')), h('p', { class: 'section-actions' }, act));
  };
  await draw();
  return h('div', null, h('p', { class: 'muted' }, t('push.lead')), body, await previewsToggle());
}

/** «Показывать текст сообщения в уведомлениях», for every device of the person. */
async function previewsToggle() {
  const settings = await api.pushSettings().catch(() => null);
  if (!settings) return null;
  const box = h('input', { type: 'checkbox', class: 'checkbox', 'data-testid': 'push-previews' });
  box.checked = settings.previews;
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      box.checked = (await api.savePushSettings({ previews: box.checked })).previews;
    } catch (e) {
      box.checked = !box.checked;
      announce(e?.text ? e.text() : t('error.unknown'), { error: true });
    }
    box.disabled = false;
  });
  return h('div', null,
    h('label', { class: 'check' }, box, h('span', null, t('push.previews'))),
    h('p', { class: 'muted small' }, t('push.previewsHint')));
}

let deferredInstall = null;
/** Shows or hides the header's button (the latest one: the header is redrawn). */
let syncInstall = () => {};
window.addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  deferredInstall = event;
  syncInstall();
});
window.addEventListener('appinstalled', () => {
  deferredInstall = null;
  syncInstall();
  announce(t('pwa.installed'));
});

/** «Установить приложение»: shown only while the browser offers to install. */
export function installButton() {
  const b = button(t('pwa.install'), { kind: 'ghost', iconName: 'down', attrs: { class: 'btn btn-ghost btn-sm', 'data-testid': 'install-app' } });
  const sync = () => { b.hidden = !deferredInstall; };
  b.addEventListener('click', async () => {
    if (!deferredInstall) return;
    const prompt = deferredInstall;
    deferredInstall = null;
    sync();
    await prompt.prompt();
  });
  syncInstall = sync;
  sync();
  return b;
}
