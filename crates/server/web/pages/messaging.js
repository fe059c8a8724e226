// @ts-check
// The school's direct-message rules (DESIGN §6), for administrators: who may
// start a personal conversation with whom. Each role's outgoing rules are a
// card, so the page reads as sentences on a phone as well as on a laptop.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, roleName, ROLES } from '../i18n.js';
import { pageTitle, breadcrumbs, notice, button, announce } from '../ui.js';
import { tabs } from './roster.js';

export const name = 'messaging';

const RULES = ['allowed', 'shared_class', 'family', 'never'];

export async function render(ctx) {
  const org = await api.org(ctx.params.org);
  ctx.setHeaderOrg(org.name);
  const policy = await api.dmPolicy(org.id);
  const selects = new Map();
  const rule = (from, to) => policy.find((e) => e.from === from && e.to === to)?.rule;

  const cards = ROLES.map((from) => h('section', { class: 'card section-card dm-card', 'aria-labelledby': `dm-${from}` },
    h('h2', { class: 'section-title', id: `dm-${from}` }, t('dm.from', { role: roleName(from) })),
    h('dl', { class: 'dm-rules' }, ROLES.flatMap((to) => {
      const id = `dm-${from}-${to}`;
      const select = h('select', { id, 'data-from': from, 'data-to': to },
        RULES.map((r) => h('option', { value: r }, t(`dm.rule.${r}`))));
      select.value = rule(from, to);
      selects.set(`${from}>${to}`, select);
      return [h('dt', null, h('label', { for: id }, t('dm.to', { role: roleName(to) }))), h('dd', null, select)];
    }))));

  const save = async () => {
    const changes = [...selects.values()].map((s) => ({ from: s.dataset.from, to: s.dataset.to, rule: s.value }));
    try {
      await api.setDmPolicy(org.id, changes);
      announce(t('dm.saved'));
    } catch (e) {
      announce(e.text(), { error: true });
    }
  };

  return h('div', { class: 'container' },
    breadcrumbs([{ label: t('header.home'), href: '#/' }, { label: t('roster.title'), href: `#/roster/${org.id}` },
      { label: t('dm.title') }]),
    pageTitle(t('dm.title'), org.name),
    tabs(org.id, 'messaging'),
    notice('info', t('dm.lead')),
    h('div', { class: 'dm-grid' }, cards),
    h('div', { class: 'form-actions' }, button(t('dm.save'), { kind: 'primary', iconName: 'check', onClick: save })));
}
