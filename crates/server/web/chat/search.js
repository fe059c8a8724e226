// @ts-check
// «Поиск по сообщениям»: full-text search over the viewer's chats
// (GET /api/messenger/search), with filters by chat, attachments and dates.
// A result opens its chat and scrolls to the message.

import { ApiError } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, addStrings, errorText } from '../i18n.js';
import * as fmt from './format.js';
import { ensureStyles } from './attachments.js';

addStrings({
  ru: {
    'search.open': 'Поиск по сообщениям',
    'search.title': 'Поиск по сообщениям',
    'search.query': 'Что найти',
    'search.placeholder': 'Например: экскурсия',
    'search.thisChat': 'Только в этом чате',
    'search.withFiles': 'Только с файлами',
    'search.from': 'С',
    'search.to': 'По',
    'search.submit': 'Найти',
    'search.none': 'Ничего не нашлось. Попробуйте другое слово.',
    'search.close': 'Закрыть',
    'search.hint': 'Находятся все формы слова: «урок» найдёт «урока» и «уроки».',
  },
  en: {
    'search.open': 'Search messages',
    'search.title': 'Search messages',
    'search.query': 'Find',
    'search.placeholder': 'For example: excursion',
    'search.thisChat': 'Only in this chat',
    'search.withFiles': 'Only with files',
    'search.from': 'From',
    'search.to': 'To',
    'search.submit': 'Search',
    'search.none': 'Nothing found. Try another word.',
    'search.close': 'Close',
    'search.hint': 'Every form of a word is found: «урок» finds «урока» and «уроки».',
  },
});

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The server's escaped snippet with <mark>s, as nodes: text stays text. */
export function snippetNodes(html) {
  const parts = html.split(/<(\/?)mark>/);
  const out = [];
  let marked = false;
  for (let i = 0; i < parts.length; i += 1) {
    if (i % 2 === 1) {
      marked = parts[i] !== '/';
      continue;
    }
    const text = parts[i].replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]);
    if (text) out.push(marked ? h('mark', null, text) : text);
  }
  return out;
}

/** The search button of the chat list. */
export function searchButton(app) {
  ensureStyles();
  const btn = h('button', {
    type: 'button', class: 'pm-icon-btn', 'aria-label': t('search.open'), title: t('search.open'), 'data-testid': 'search-messages',
  }, icon('search'));
  btn.addEventListener('click', () => openSearch(app, btn));
  return btn;
}

export function openSearch(app, anchor) {
  ensureStyles();
  const current = app.current ?? null;
  const q = h('input', {
    type: 'search', class: 'input', id: 'pm-search-q', placeholder: t('search.placeholder'), autocomplete: 'off',
    maxlength: '500', 'data-testid': 'search-query',
  });
  const thisChat = h('input', { type: 'checkbox', id: 'pm-search-chat', checked: current !== null });
  const withFiles = h('input', { type: 'checkbox', id: 'pm-search-files' });
  const from = h('input', { type: 'date', class: 'input', id: 'pm-search-from' });
  const to = h('input', { type: 'date', class: 'input', id: 'pm-search-to' });
  const results = h('ul', { class: 'pm-results', 'aria-live': 'polite', 'data-testid': 'search-results' });
  const close = h('button', { type: 'button', class: 'pm-icon-btn', 'aria-label': t('search.close'), title: t('search.close') }, icon('x'));
  const form = h('form', { class: 'pm-search-form', role: 'search' },
    h('label', { for: 'pm-search-q' }, t('search.query')),
    h('div', { class: 'pm-search-row' }, q, h('button', { type: 'submit', class: 'btn btn-primary' }, t('search.submit'))),
    h('p', { class: 'pm-search-hint' }, t('search.hint')),
    h('div', { class: 'pm-search-filters' },
      current !== null ? h('label', null, thisChat, ` ${t('search.thisChat')}`) : null,
      h('label', null, withFiles, ` ${t('search.withFiles')}`),
      h('label', null, `${t('search.from')} `, from),
      h('label', null, `${t('search.to')} `, to)));
  const panel = h('div', { class: 'pm-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('search.title'), 'data-testid': 'search-panel' },
    h('div', { class: 'pm-overlay-box' },
      h('header', { class: 'pm-overlay-head' }, h('h2', null, t('search.title')), close), form, results));
  const done = () => {
    panel.remove();
    anchor?.focus();
  };
  close.addEventListener('click', done);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') done();
  });
  panel.addEventListener('click', (e) => {
    if (e.target === panel) done();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const params = new URLSearchParams({ q: q.value });
    if (current !== null && thisChat.checked) params.set('chat', String(current));
    if (withFiles.checked) params.set('has_file', 'true');
    if (from.value) params.set('from', from.value);
    if (to.value) params.set('to', to.value);
    clear(results).append(h('li', null, h('span', { class: 'spinner' })));
    try {
      const res = await fetch(`/api/messenger/search?${params}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new ApiError(res.status, body);
      clear(results);
      if (!body.length) results.append(h('li', { class: 'pm-results-none' }, t('search.none')));
      for (const hit of body) results.append(resultEl(app, hit, done));
    } catch (err) {
      clear(results).append(h('li', { class: 'pm-tray-error', role: 'alert' }, err.body ? errorText(err.body) : err.text ? err.text() : t('error.unknown')));
    }
  });
  document.body.append(panel);
  q.focus();
}

function resultEl(app, hit, done) {
  const btn = h('button', { type: 'button', class: 'pm-result', 'data-testid': 'search-result', 'data-message': hit.message_id },
    h('span', { class: 'pm-result-head' },
      h('span', { class: 'pm-result-chat' }, hit.chat_name),
      h('time', { class: 'pm-result-time', datetime: new Date(hit.at * 1000).toISOString() }, fmt.fullTime(hit.at))),
    h('span', { class: 'pm-result-author' }, fmt.shortName(hit.author.name)),
    h('span', { class: 'pm-result-text' }, snippetNodes(hit.snippet_html)));
  btn.addEventListener('click', () => {
    done();
    openMessage(app, hit.chat, hit.message_id);
  });
  return h('li', null, btn);
}

/** Opens a chat and scrolls to one of its messages, loading history as needed. */
export async function openMessage(app, chat, message) {
  if (app.current !== chat) location.hash = `#/chat/${chat}`;
  for (let i = 0; i < 100; i += 1) {
    if (app.conv && app.conv.id === chat && app.conv.data) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (app.conv?.id === chat) await app.conv.jumpTo(message);
}
