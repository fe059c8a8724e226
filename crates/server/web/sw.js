// @ts-check
// Parta Мессенджер's service worker: the shell offline, notifications pushed
// by the server while the messenger is closed, and a tap on one opening its
// chat. Plain script (not a module), so every browser with push runs it.

// The worker's own global scope (typed for the check: `self` is declared a
// plain WorkerGlobalScope).
const worker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const SHELL = 'parta-shell-v1';
const SHELL_FILES = ['/messenger', '/assets/app.css', '/assets/chat.css', '/assets/messenger.js', '/assets/logo.svg', '/assets/icon-192.png'];

worker.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => worker.skipWaiting()));
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
    .then(() => worker.clients.claim()));
});

// The page and its modules: the network first (an upgrade is seen at once),
// the copy kept last time when there is no network. The API never from a cache.
worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== worker.location.origin) return;
  if (url.pathname !== '/messenger' && !url.pathname.startsWith('/assets/')) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(SHELL).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((cached) => cached || caches.match('/messenger'))));
});

/** Where a notification leads. */
function chatUrl(chat) {
  return `/messenger#/chat/${chat}`;
}

/** «5 новых сообщений»: the Russian plural of a count. */
function count(n, one, few, many) {
  const ten = n % 10;
  const hundred = n % 100;
  const word = ten === 1 && hundred !== 11 ? one : ten >= 2 && ten <= 4 && (hundred < 12 || hundred > 14) ? few : many;
  return `${n} ${word}`;
}

/** The notification for a push payload (`v` 1, docs/protocol.md «Push»); null for one this worker does not know. */
function notificationOf(p) {
  if (!p || p.v !== 1) return null;
  if (p.type === 'message') {
    return {
      title: p.chat_name,
      options: {
        body: p.preview == null ? `${p.sender}: новое сообщение` : p.direct ? p.preview : `${p.sender}: ${p.preview}`,
        // One notification per chat: a newer message replaces the older one.
        tag: `parta-chat-${p.chat}`,
        renotify: true,
        icon: '/assets/icon-192.png',
        data: { url: chatUrl(p.chat), chat: p.chat },
      },
    };
  }
  if (p.type === 'reminder') {
    return {
      title: p.chat_name,
      options: {
        body: p.about === 'consent' ? 'Напоминание: ответьте на форму согласия.' : 'Напоминание: прочитайте сообщение учителя.',
        tag: `parta-reminder-${p.message}`,
        icon: '/assets/icon-192.png',
        data: { url: chatUrl(p.chat), chat: p.chat },
      },
    };
  }
  if (p.type === 'summary') {
    // One chat: open it; several: the chat list.
    const only = p.chats && p.chats.length === 1 ? p.chats[0].chat : null;
    return {
      title: 'Parta Мессенджер',
      options: {
        body: `Пока были тихие часы: ${count(p.messages, 'новое сообщение', 'новых сообщения', 'новых сообщений')} ` +
          `в ${count(p.chats.length, 'чате', 'чатах', 'чатах')}`,
        tag: 'parta-quiet-summary',
        icon: '/assets/icon-192.png',
        data: only == null ? { url: '/messenger' } : { url: chatUrl(only), chat: only },
      },
    };
  }
  if (p.type === 'call') {
    return {
      title: 'Входящий звонок',
      options: {
        body: p.caller,
        tag: `parta-call-${p.call}`,
        // A call waits for an answer, unlike a message.
        requireInteraction: true,
        icon: '/assets/icon-192.png',
        data: { url: chatUrl(p.chat), chat: p.chat },
      },
    };
  }
  return null;
}

worker.addEventListener('push', (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null;
  }
  // A push must always show something; an unknown one says only that there is news.
  const n = notificationOf(payload) || {
    title: 'Parta Мессенджер',
    options: { body: 'Новое сообщение', tag: 'parta', icon: '/assets/icon-192.png', data: { url: '/messenger' } },
  };
  event.waitUntil(worker.registration.showNotification(n.title, n.options));
});

/** A tapped notification: its chat in the open messenger, or in a new window. */
function openChatOf(notification) {
  const { url, chat } = notification.data || {};
  return worker.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname === '/messenger');
    if (open) {
      if (chat != null) open.postMessage({ type: 'open-chat', chat });
      // Focusing is allowed only while handling the tap itworker.
      return open.focus().catch(() => open);
    }
    return worker.clients.openWindow(url || '/messenger');
  });
}

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openChatOf(event.notification));
});
