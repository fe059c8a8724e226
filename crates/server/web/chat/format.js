// @ts-check
// How the messenger writes times, names and previews.

import { t, lang } from '../i18n.js';
import './call-strings.js';
import '../datarights.js';

const locale = () => (lang() === 'ru' ? 'ru-RU' : 'en-GB');

/**
 * `forms` (`{ru: {one, few, many}, en: {one, other}}`, with `{n}` and other
 * `{name}` slots) in the current language, agreeing with `n`.
 */
export function counted(forms, n, params = {}) {
  const own = forms[lang()] || forms.ru;
  const form = own[new Intl.PluralRules(locale()).select(n)] ?? own.many ?? own.other;
  return Object.entries({ n, ...params }).reduce((s, [k, v]) => s.replace(`{${k}}`, v), form);
}

function dayStart(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Days between the local calendar days of `secs` and now: 0 today, 1 yesterday. */
export function daysAgo(secs, now = Date.now()) {
  return Math.round((dayStart(new Date(now)) - dayStart(new Date(secs * 1000))) / 86_400_000);
}

/** A key for the local calendar day: "2026-11-29". */
export function dayKey(secs) {
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * "14:05".
 * @param {number} secs unix seconds
 * @returns {string}
 */
export function clockTime(secs) {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }).format(new Date(secs * 1000));
}

/** A day separator: «Сегодня», «Вчера», «29 ноября», «29 ноября 2025 г.». */
export function dayLabel(secs) {
  const ago = daysAgo(secs);
  if (ago === 0) return t('chat.today');
  if (ago === 1) return t('chat.yesterday');
  const d = new Date(secs * 1000);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat(locale(), sameYear ? { day: 'numeric', month: 'long' } : { day: 'numeric', month: 'long', year: 'numeric' })
    .format(d);
}

/** The time in the chat list: "14:05" today, «Вчера», a weekday this week, else a date. */
export function listTime(secs) {
  const ago = daysAgo(secs);
  const d = new Date(secs * 1000);
  if (ago === 0) return clockTime(secs);
  if (ago === 1) return t('chat.yesterday');
  if (ago > 1 && ago < 7) return new Intl.DateTimeFormat(locale(), { weekday: 'short' }).format(d);
  if (d.getFullYear() === new Date().getFullYear()) {
    return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short' }).format(d).replace(/\.$/, '');
  }
  return new Intl.DateTimeFormat(locale(), { day: '2-digit', month: '2-digit', year: '2-digit' }).format(d);
}

/**
 * "29 ноября 2026 г., 14:05": a message's full time, for its tooltip.
 * @param {number} secs unix seconds
 * @returns {string}
 */
export function fullTime(secs) {
  return new Intl.DateTimeFormat(locale(), {
    day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(secs * 1000));
}

/**
 * The name a person is called by in a chat: from "Иванова Мария Петровна"
 * (last, first, middle, as the roster writes it) "Мария".
 * @param {string} full
 * @returns {string}
 */
export function firstName(full) {
  const parts = String(full || '').trim().split(/\s+/).filter(Boolean);
  return parts[1] || parts[0] || '';
}

/**
 * "Иванова Мария" — without the middle name, for author lines.
 * @param {string} full
 * @returns {string}
 */
export function shortName(full) {
  // An erased person's messages stay under this name (storage writes it in Russian).
  if (full === 'Удалённый пользователь') return t('dr.deletedUser');
  const parts = String(full || '').trim().split(/\s+/).filter(Boolean);
  return parts.slice(0, 2).join(' ');
}

/** Two letters for an avatar from a full name or a chat name. */
export function initialsOf(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  if (parts.length === 1) return parts[0].slice(0, 2).toUpperCase();
  return (parts[0][0] + parts[1][0]).toUpperCase();
}

/**
 * A one-line preview, the same rule as the server's: whitespace runs become one space, long text ends in "…".
 * @param {string} text
 * @param {number} [max] characters
 * @returns {string}
 */
export function preview(text, max = 100) {
  const line = String(text || '').split(/\s+/).filter(Boolean).join(' ');
  const chars = Array.from(line);
  if (chars.length <= max) return line;
  return `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/**
 * A stable hue for a person's name colour, from their id.
 * @param {number | string} id
 * @returns {string} for a CSS custom property (setProperty takes text)
 */
export function hueOf(id) {
  const n = Number(id) || 0;
  return String(((n * 137) % 360 + 360) % 360);
}

/** Folds case and ё for search: «Ёлка» finds «елка». */
export function fold(s) {
  return String(s || '').toLocaleLowerCase('ru-RU').replace(/ё/g, 'е');
}

/** A call's length: «45 с», «5 мин», «1 ч 5 мин». */
export function callDuration(secs) {
  if (secs < 60) return t('call.secs', { n: secs });
  const mins = Math.round(secs / 60);
  if (mins < 60) return t('call.mins', { n: mins });
  return t('call.hours', { h: Math.floor(mins / 60), m: mins % 60 });
}

/** How many names a call record lists before «и ещё N». */
const RECORD_NAMES = 4;

/**
 * A call record (a message's `call`, docs/protocol.md) in words: the main
 * line («Видеозвонок · 5 мин · участники: …», «Пропущенный звонок») and, when
 * the call did not end by itself, why it ended.
 */
export function callRecordText(call) {
  if (call.outcome === 'missed' || call.outcome === 'declined') {
    return { main: t(`call.record.${call.outcome}`), note: '' };
  }
  const parts = [t(call.kind === 'video' ? 'call.video' : 'call.audio')];
  if (call.duration > 0) parts.push(callDuration(call.duration));
  const names = (call.participants || []).map((p) => shortName(p.name));
  if (names.length) {
    const listed = names.slice(0, RECORD_NAMES).join(', ');
    const rest = names.length - RECORD_NAMES;
    parts.push(t('call.with', { names: rest > 0 ? t('call.andMore', { names: listed, n: rest }) : listed }));
  }
  const note = call.outcome === 'ended_by_moderator' || call.outcome === 'server_restart' ? t(`call.record.${call.outcome}`) : '';
  return { main: parts.join(' · '), note };
}

/** A call record in the chat list: «📞 Видеозвонок», «📞 Пропущенный звонок». */
export function callPreview(call) {
  const text = call.outcome === 'missed' || call.outcome === 'declined'
    ? t(`call.record.${call.outcome}`) : t(call.kind === 'video' ? 'call.video' : 'call.audio');
  return `📞 ${text}`;
}
