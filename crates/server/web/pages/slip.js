// @ts-check
// The printable password slip: one card per person to cut out and hand over,
// each student followed by their parents.

import { api } from '../api.js';
import { h, fullName } from '../dom.js';
import { t } from '../i18n.js';
import { breadcrumbs, button, notice, linkButton } from '../ui.js';
import { takeSlip } from '../slipstore.js';

export const name = 'slip';

/** Slips in handing-out order: a student, then that student's parents. */
function arrange(rows, students) {
  const byId = new Map(rows.map((r) => [r.person_id, r]));
  const out = [];
  const placed = new Set();
  const place = (row, child) => {
    if (!row || placed.has(row.person_id)) return;
    placed.add(row.person_id);
    out.push({ row, child });
  };
  for (const s of students) {
    place(byId.get(s.id), null);
    for (const g of s.guardians) place(byId.get(g.id), s);
  }
  for (const r of rows) place(r, null);
  return out;
}

export async function render(ctx) {
  const { org: orgId, id } = ctx.params;
  const [org, detail] = await Promise.all([api.org(orgId), api.klass(orgId, id)]);
  ctx.setHeaderOrg(org.name);
  const c = detail.class;
  const rows = takeSlip(orgId, id);
  const crumbs = breadcrumbs([
    { label: t('header.home'), href: '#/' },
    { label: t('roster.title'), href: `#/roster/${orgId}` },
    { label: c.name, href: `#/roster/${orgId}/class/${c.id}` },
    { label: t('class.issue') },
  ]);
  const back = linkButton(t('slip.toClass'), `#/roster/${orgId}/class/${c.id}`, { kind: 'ghost', iconName: 'back' });
  const title = h('h1', { tabindex: '-1', id: 'page-h1' }, t('slip.title', { name: c.name }));

  if (!rows) {
    return h('div', { class: 'container narrow' }, crumbs, h('div', { class: 'page-title' }, title),
      notice('info', t('slip.gone'), h('p', { class: 'notice-actions' }, back)));
  }
  if (!rows.length) {
    return h('div', { class: 'container narrow' }, crumbs, h('div', { class: 'page-title' }, title),
      notice('success', t('slip.empty'), h('p', { class: 'notice-actions' }, back)));
  }

  const address = `${location.origin}/`;
  const cards = arrange(rows, detail.students).map(({ row, child }) => h('li', { class: 'slip', 'data-testid': 'slip' },
    h('div', { class: 'slip-head' },
      h('span', { class: 'slip-brand' }, h('img', { src: '/assets/logo.svg', alt: '', width: '20', height: '20' }), t('slip.portal')),
      h('span', { class: 'slip-org' }, `${org.name} · ${c.name}`)),
    h('p', { class: 'slip-name' }, row.name),
    h('p', { class: 'slip-role' }, row.role === 'guardian'
      ? `${t('slip.forGuardian')}${child ? ` · ${fullName(child)}` : ''}`
      : t('slip.forStudent')),
    h('dl', { class: 'slip-facts' },
      h('div', null, h('dt', null, t('slip.address')), h('dd', null, address)),
      h('div', null, h('dt', null, t('slip.login')), h('dd', null, h('code', { class: 'slip-login' }, row.login))),
      h('div', null, h('dt', null, t('slip.password')), h('dd', null, h('code', { class: 'slip-password' }, row.password)))),
    h('p', { class: 'slip-note' }, t('slip.firstLogin'))));

  return h('div', { class: 'container slip-page' },
    crumbs,
    h('div', { class: 'title-row no-print' },
      h('div', { class: 'page-title' }, title,
        h('p', { class: 'page-sub' }, t('slip.issued', { n: rows.length }))),
      h('div', { class: 'title-actions' }, back,
        button(t('common.print'), { kind: 'primary', iconName: 'print', onClick: () => window.print(), attrs: { class: 'btn btn-primary', 'data-testid': 'print' } }))),
    h('p', { class: 'lead no-print' }, t('slip.lead')),
    h('ul', { class: 'slips' }, cards));
}
