// @ts-check
// «Тихие часы», for a school's administrators (issue 19): when new messages
// in the chosen kinds of chat notify nobody (a summary comes when they end),
// in the school's time zone; and how often chat admins used «Срочно», which
// cuts through them.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { pageTitle, breadcrumbs, notice, button, announce, field } from '../ui.js';
import { tabs } from './roster.js';

export const name = 'quiet';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const KINDS = ['parents', 'class', 'staff_room', 'subject', 'custom', 'direct'];

function daySelect(value, testid) {
  const select = h('select', { class: 'input', 'data-testid': testid, 'aria-label': t('quiet.day') },
    DAYS.map((d) => h('option', { value: d }, t(`quiet.day.${d}`))));
  select.value = value;
  return select;
}

function timeInput(value, testid) {
  return h('input', { type: 'time', class: 'input', value, required: true, 'data-testid': testid, 'aria-label': t('quiet.time') });
}

/**
 * @typedef {HTMLLIElement & { fields: Record<string, HTMLInputElement | HTMLSelectElement> }} PeriodRow
 */

/** One period's row: from day and time, to day and time, a remove button. */
function periodRow(p, onRemove) {
  const row = /** @type {PeriodRow} */ (h('li', { class: 'quiet-period', 'data-testid': 'quiet-period' }));
  row.fields = {
    from_day: daySelect(p.from_day, 'quiet-from-day'), from: timeInput(p.from, 'quiet-from'),
    to_day: daySelect(p.to_day, 'quiet-to-day'), to: timeInput(p.to, 'quiet-to'),
  };
  const remove = button(t('quiet.remove'), { kind: 'ghost', iconName: 'trash', onClick: () => onRemove(row) });
  row.append(row.fields.from_day, row.fields.from, h('span', null, '—'), row.fields.to_day, row.fields.to, remove);
  return row;
}

export async function render(ctx) {
  const org = await api.org(ctx.params.org);
  ctx.setHeaderOrg(org.name);
  const hours = await api.quietHours(org.id);

  const zone = h('input', { class: 'input', value: hours.time_zone, maxlength: '64', 'data-testid': 'quiet-zone', spellcheck: 'false' });
  const list = h('ul', { class: 'quiet-periods', 'data-testid': 'quiet-periods' });
  const remove = (row) => row.remove();
  list.append(...hours.periods.map((p) => periodRow(p, remove)));
  const add = button(t('quiet.add'), {
    kind: 'secondary', iconName: 'plus', attrs: { 'data-testid': 'quiet-add' },
    onClick: () => list.append(periodRow({ from_day: 'mon', from: '19:00', to_day: 'tue', to: '08:00' }, remove)),
  });
  const kinds = KINDS.map((k) => {
    const box = h('input', { type: 'checkbox', value: k, 'data-testid': `quiet-kind-${k}` });
    box.checked = hours.chat_kinds.includes(k);
    return h('label', { class: 'check' }, box, ' ', t(`quiet.kind.${k}`));
  });
  const problem = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'quiet-error', hidden: true });

  const save = async () => {
    const form = {
      time_zone: zone.value.trim(),
      periods: [.../** @type {HTMLCollectionOf<PeriodRow>} */ (list.children)].map((row) => Object.fromEntries(Object.entries(row.fields).map(([k, el]) => [k, el.value]))),
      chat_kinds: kinds.map((l) => l.querySelector('input')).filter((b) => b.checked).map((b) => b.value),
    };
    try {
      await api.setQuietHours(org.id, form);
      problem.hidden = true;
      announce(t('quiet.saved'));
    } catch (e) {
      problem.textContent = e.text ? e.text() : t('error.unknown');
      problem.hidden = false;
    }
  };

  const usage = h('div', { 'data-testid': 'urgent-usage' },
    hours.urgent_usage.length
    ? h('table', { class: 'quiet-usage' },
      h('thead', null, h('tr', null, h('th', null, t('quiet.usageChat')), h('th', null, t('quiet.usageAuthor')),
        h('th', null, t('quiet.usageCount')))),
      h('tbody', null, hours.urgent_usage.map((u) => h('tr', { 'data-testid': 'urgent-use' },
        h('td', null, u.chat_name), h('td', null, u.author_name), h('td', null, String(u.uses))))))
    : h('p', { class: 'muted' }, t('quiet.usageNone')));

  return h('div', { class: 'container' },
    breadcrumbs([{ label: t('header.home'), href: '#/' }, { label: t('roster.title'), href: `#/roster/${org.id}` },
      { label: t('quiet.title') }]),
    pageTitle(t('quiet.title'), org.name),
    tabs(org.id, 'quiet'),
    h('div', { class: 'stack' },
      notice('info', t('quiet.lead')),
      h('section', { class: 'card section-card', 'aria-labelledby': 'quiet-when' },
        h('h2', { id: 'quiet-when', class: 'section-title' }, t('quiet.when')),
        field({ label: t('quiet.zone'), input: zone, hint: t('quiet.zoneHint') }).wrap,
        list, h('p', { class: 'section-actions' }, add),
        h('fieldset', { class: 'checks' }, h('legend', null, t('quiet.kinds')), h('div', { class: 'check-grid' }, ...kinds)),
        problem,
        h('p', { class: 'section-actions' },
          button(t('quiet.save'), { kind: 'primary', iconName: 'check', onClick: save, attrs: { 'data-testid': 'quiet-save' } }))),
      h('section', { class: 'card section-card', 'aria-labelledby': 'quiet-urgent' },
        h('h2', { id: 'quiet-urgent', class: 'section-title' }, t('quiet.usage')),
        h('p', null, t('quiet.usageLead')),
        usage)));
}
