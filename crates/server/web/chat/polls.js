// @ts-check
// Polls in the messenger (issue 20): «Опрос» beside the composer opens a
// form (question, 2–10 options, several answers, anonymous, closing time);
// a poll message shows its options with live results (`poll` events), votes
// with a tap (several: tick, then «Голосовать»), lets its author close it
// early and anyone in the chat download the results as CSV.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import { openDialog, field, textInput, announce } from '../ui.js';
import * as fmt from './format.js';
import { newClientId } from './outbox.js';
import { svg } from './attachments.js';

/** A bar chart: «Опрос». */
const BARS = ['M5 20v-9', 'M12 20V4', 'M19 20v-6'];

addStrings({
  ru: {
    'poll.create': 'Создать опрос',
    'poll.title': 'Новый опрос',
    'poll.question': 'Вопрос',
    'poll.option': 'Вариант {n}',
    'poll.addOption': 'Добавить вариант',
    'poll.multiple': 'Можно выбрать несколько вариантов',
    'poll.anonymous': 'Анонимный: никто не узнает, кто как ответил',
    'poll.closesAt': 'Закрыть в',
    'poll.submit': 'Создать',
    'poll.vote': 'Голосовать',
    'poll.close': 'Закрыть опрос',
    'poll.csv': 'Результаты (CSV)',
    'poll.closed': 'Опрос закрыт',
    'poll.closesOn': 'До {when}',
    'poll.anonymousMark': 'Анонимный опрос',
    'poll.namedMark': 'Опрос',
    'poll.mine': 'ваш ответ',
    'poll.voted': 'Голос учтён.',
  },
  en: {
    'poll.create': 'Create a poll',
    'poll.title': 'New poll',
    'poll.question': 'Question',
    'poll.option': 'Option {n}',
    'poll.addOption': 'Add an option',
    'poll.multiple': 'Several answers allowed',
    'poll.anonymous': 'Anonymous: nobody learns who answered what',
    'poll.closesAt': 'Closes at',
    'poll.submit': 'Create',
    'poll.vote': 'Vote',
    'poll.close': 'Close the poll',
    'poll.csv': 'Results (CSV)',
    'poll.closed': 'The poll is closed',
    'poll.closesOn': 'Until {when}',
    'poll.anonymousMark': 'Anonymous poll',
    'poll.namedMark': 'Poll',
    'poll.mine': 'your answer',
    'poll.voted': 'Vote counted.',
  },
});

const VOTERS = {
  ru: { one: '{n} голос', few: '{n} голоса', many: '{n} голосов' },
  en: { one: '{n} voter', other: '{n} voters' },
};

function voters(n) {
  return fmt.counted(VOTERS, n);
}

const MAX_OPTIONS = 10;

function ensureStyles() {
  if (document.querySelector('link[data-pm-polls]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/polls.css', 'data-pm-polls': '' }));
}

/** Whether the poll takes no more votes, by the server's closing time. */
export function pollClosed(p, now = Date.now() / 1000) {
  return Boolean(p.closed_at || (p.closes_at && now >= p.closes_at));
}

/**
 * «Опрос» beside the composer.
 * @param {import('./conversation.js').Conversation} conv
 */
export function pollButton(conv) {
  ensureStyles();
  const btn = h('button', {
    type: 'button', class: 'pm-attach', 'aria-label': t('poll.create'), title: t('poll.create'), 'data-testid': 'poll-create',
  }, svg(BARS));
  btn.addEventListener('click', () => openPollForm(conv));
  return btn;
}

/** @param {import('./conversation.js').Conversation} conv */
function openPollForm(conv) {
  const question = field({ label: t('poll.question'), input: textInput({ maxlength: '500', 'data-testid': 'poll-question' }) });
  const list = h('div', { class: 'pm-poll-options' });
  const options = [];
  const addOption = () => {
    const f = field({ label: t('poll.option', { n: options.length + 1 }), input: textInput({ maxlength: '200', 'data-testid': 'poll-option' }) });
    options.push(f);
    list.append(f.wrap);
    more.hidden = options.length >= MAX_OPTIONS;
    return f;
  };
  const more = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'poll-add-option' }, t('poll.addOption'));
  more.addEventListener('click', () => addOption().input.focus());
  const check = (label, testid) => {
    const input = h('input', { type: 'checkbox', 'data-testid': testid });
    return { input, el: h('label', { class: 'pm-poll-check' }, input, h('span', null, label)) };
  };
  const multiple = check(t('poll.multiple'), 'poll-multiple');
  const anonymous = check(t('poll.anonymous'), 'poll-anonymous');
  const closes = field({ label: t('poll.closesAt'), input: h('input', { type: 'datetime-local', class: 'input', 'data-testid': 'poll-closes' }), optional: true });
  openDialog({
    title: t('poll.title'),
    submitLabel: t('poll.submit'),
    build: (body) => {
      body.classList.add('pm-poll-form');
      addOption();
      addOption();
      body.append(question.wrap, list, more, multiple.el, anonymous.el, closes.wrap);
    },
    onSubmit: async ({ showError }) => {
      const when = closes.input.value ? Math.floor(new Date(closes.input.value).getTime() / 1000) : null;
      const body = {
        client_id: newClientId(),
        question: question.input.value,
        options: options.map((f) => f.input.value).filter((v) => v.trim()),
        multiple: multiple.input.checked,
        anonymous: anonymous.input.checked,
        closes_at: when,
      };
      try {
        await api.createPoll(conv.id, body);
      } catch (e) {
        showError(e.text ? e.text() : t('error.unknown'));
        return false;
      }
      return true;
    },
  });
}

/**
 * A poll message's card: options with results, voting, closing, CSV.
 * @param {import('./conversation.js').Conversation} conv
 */
export function pollEl(conv, m) {
  ensureStyles();
  const p = m.poll;
  const s = conv.summary;
  const closed = pollClosed(p) || s.read_only;
  const mine = new Set(p.mine || []);
  const total = Math.max(1, p.options.reduce((n, o) => n + o.votes, 0));
  const chosen = new Set(mine);
  const vote = async (options) => {
    try {
      const poll = await api.vote(conv.id, m.id, options);
      conv.store.pollChanged(conv.id, m.id, poll);
      announce(t('poll.voted'));
    } catch (e) {
      announce(e.text ? e.text() : t('error.unknown'), { error: true });
    }
  };
  const voteBtn = h('button', { type: 'button', class: 'btn btn-primary pm-poll-vote', 'data-testid': 'poll-vote', hidden: !p.multiple || closed }, t('poll.vote'));
  voteBtn.addEventListener('click', () => vote([...chosen]));
  const rows = p.options.map((o, i) => {
    const share = Math.round((o.votes / total) * 100);
    const bar = h('span', { class: 'pm-poll-bar', 'aria-hidden': 'true' });
    bar.style.width = `${share}%`;
    const label = h('span', { class: 'pm-poll-text' }, o.text, mine.has(i) ? h('span', { class: 'pm-poll-mine' }, ` · ${t('poll.mine')}`) : null);
    const count = h('span', { class: 'pm-poll-count' }, String(o.votes));
    const btn = h('button', {
      type: 'button', class: ['pm-poll-option', mine.has(i) && 'is-mine'], disabled: closed,
      'aria-pressed': String(chosen.has(i)), 'data-testid': 'poll-option', 'data-index': i,
    }, bar, p.multiple && !closed ? h('span', { class: 'pm-poll-tick', 'aria-hidden': 'true' }, chosen.has(i) ? '☑' : '☐') : null, label, count);
    btn.addEventListener('click', () => {
      if (!p.multiple) {
        vote([i]);
        return;
      }
      if (chosen.has(i)) chosen.delete(i);
      else chosen.add(i);
      btn.setAttribute('aria-pressed', String(chosen.has(i)));
      btn.querySelector('.pm-poll-tick').textContent = chosen.has(i) ? '☑' : '☐';
      voteBtn.disabled = chosen.size === 0;
    });
    return btn;
  });
  voteBtn.disabled = chosen.size === 0;
  const status = closed ? t('poll.closed') : p.closes_at ? t('poll.closesOn', { when: fmt.fullTime(p.closes_at) }) : '';
  const foot = h('div', { class: 'pm-poll-foot' },
    h('span', { 'data-testid': 'poll-voters' }, [voters(p.voters), status].filter(Boolean).join(' · ')));
  const csv = h('a', { class: 'pm-link-btn', href: `/api/messenger/chats/${conv.id}/messages/${m.id}/poll.csv`, download: '', 'data-testid': 'poll-csv' }, t('poll.csv'));
  foot.append(csv);
  if (m.author.person === s.me && !closed) {
    const close = h('button', { type: 'button', class: 'pm-link-btn', 'data-testid': 'poll-close' }, t('poll.close'));
    close.addEventListener('click', async () => {
      try {
        conv.store.pollChanged(conv.id, m.id, await api.closePoll(conv.id, m.id));
      } catch (e) {
        announce(e.text ? e.text() : t('error.unknown'), { error: true });
      }
    });
    foot.append(close);
  }
  return h('div', { class: 'pm-poll', 'data-testid': 'poll' },
    h('p', { class: 'pm-poll-kind' }, p.anonymous ? t('poll.anonymousMark') : t('poll.namedMark')),
    h('div', { class: 'pm-poll-list', role: 'group' }, rows), voteBtn, foot);
}
