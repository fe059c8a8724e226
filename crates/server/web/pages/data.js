// @ts-check
// «Данные и хранение», for a school's administrators (152-ФЗ): a copy of a
// person's data at their request, the erasure of a former member's data
// after a dry-run, how long archived chats of past years are kept (with a
// preview of what would go), and the log of all of it.

import { api } from '../api.js';
import { h, clear, fullName } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { pageTitle, breadcrumbs, notice, button, announce, field, openDialog } from '../ui.js';
import { tabs } from './roster.js';
import { exportState } from '../datarights.js';

export const name = 'data';

const YEARS = [0, 1, 2, 3, 4, 5, 7, 10, 15, 25];

function card(id, title, ...children) {
  return h('section', { class: 'card section-card', 'aria-labelledby': id, 'data-testid': id },
    h('h2', { id, class: 'section-title' }, title), ...children);
}

function failed(e) {
  announce(e.text ? e.text() : t('error.unknown'), { error: true });
}

export async function render(ctx) {
  const org = await api.org(ctx.params.org);
  ctx.setHeaderOrg(org.name);
  const [setting, exports, former, audit] = await Promise.all([
    api.dataRights.retention(org.id), api.dataRights.exports(org.id),
    api.dataRights.formerMembers(org.id), api.dataRights.audit(org.id),
  ]);
  return h('div', { class: 'container' },
    breadcrumbs([{ label: t('header.home'), href: '#/' }, { label: t('roster.title'), href: `#/roster/${org.id}` },
      { label: t('dr.title') }]),
    pageTitle(t('dr.title'), org.name),
    tabs(org.id, 'data'),
    h('div', { class: 'stack' },
      notice('info', t('dr.lead')),
      retentionCard(ctx, org.id, setting),
      exportCard(ctx, org.id, exports),
      formerCard(ctx, org.id, former),
      auditCard(audit)));
}

function retentionCard(ctx, orgId, setting) {
  const select = h('select', { class: 'input', 'data-testid': 'retention-years' },
    YEARS.map((n) => h('option', { value: String(n) }, n ? t('dr.yearsN', { n }) : t('dr.yearsOff'))));
  select.value = String(setting.years ?? 0);
  const preview = h('div', { 'data-testid': 'retention-preview' });
  const showPreview = async () => {
    try {
      const chats = await api.dataRights.retentionPreview(orgId, Number(select.value));
      clear(preview);
      preview.append(chats.length
        ? h('ul', { class: 'link-rows' }, chats.map((c) => h('li', { 'data-testid': 'retention-chat' },
          t('dr.previewRow', { name: c.name, year: c.year, messages: c.messages, files: c.files }))))
        : h('p', { class: 'muted' }, t('dr.previewNone')));
    } catch (e) {
      failed(e);
    }
  };
  return card('dr-retention', t('dr.retention'),
    h('p', null, t('dr.retentionLead')),
    field({ label: t('dr.years'), input: select }).wrap,
    h('p', { class: 'section-actions' },
      button(t('dr.preview'), { kind: 'secondary', onClick: showPreview, attrs: { 'data-testid': 'retention-show' } }),
      ' ',
      button(t('dr.save'), {
        kind: 'primary',
        iconName: 'check',
        attrs: { 'data-testid': 'retention-save' },
        onClick: async () => {
          try {
            const years = Number(select.value);
            await api.dataRights.setRetention(orgId, years || null);
            announce(t('dr.saved'));
            ctx.rerender();
          } catch (e) {
            failed(e);
          }
        },
      })),
    preview);
}

/** Asks for the ground of an act on a person's data; resolves to it, or null. */
function reasonField() {
  const input = h('input', { class: 'input', maxlength: '500', 'data-testid': 'rights-reason' });
  return field({ label: t('dr.reason'), input, hint: t('dr.reasonHint') });
}

function exportCard(ctx, orgId, exports) {
  const results = h('ul', { class: 'link-rows', 'data-testid': 'export-people' });
  const search = h('input', { type: 'search', class: 'input', maxlength: '100', 'data-testid': 'export-search' });
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(async () => {
      const q = search.value.trim();
      clear(results);
      if (!q) return;
      const people = await api.people(orgId, { q, limit: 20 }).catch(() => []);
      results.append(...people.map((p) => h('li', { 'data-testid': 'export-person' },
        h('span', null, fullName(p)), ' ',
        button(t('dr.exportFor'), { kind: 'secondary', onClick: () => requestExport(ctx, orgId, p) }))));
    }, 250);
  });
  const href = (id) => `/api/orgs/${encodeURIComponent(orgId)}/exports/${encodeURIComponent(id)}/download`;
  const refresh = (id) => api.dataRights.orgExport(orgId, id);
  return card('dr-export', t('dr.exportTitle'),
    h('p', null, t('dr.exportLead')),
    field({ label: t('dr.search'), input: search }).wrap,
    results,
    h('h3', null, t('dr.exports')),
    exports.length
      ? h('ul', { class: 'link-rows', 'data-testid': 'org-exports' }, exports.map((j) => h('li', null,
        h('div', null, h('strong', null, j.person_name || ''), ' ', h('span', { class: 'muted' }, formatDateTime(j.created_at)),
          exportState(j, href, refresh)))))
      : h('p', { class: 'muted' }, t('dr.exportsNone')));
}

function requestExport(ctx, orgId, person) {
  const reason = reasonField();
  return openDialog({
    title: `${t('dr.exportFor')}: ${fullName(person)}`,
    build: (body) => body.append(reason.wrap),
    submitLabel: t('dr.exportFor'),
    onSubmit: async () => {
      if (!reason.input.value.trim()) {
        reason.setError(t('dr.reasonNeeded'));
        return false;
      }
      await api.dataRights.requestFor(orgId, person.id, reason.input.value);
      announce(t('dr.exportStarted'));
      ctx.rerender();
      return true;
    },
  });
}

function formerCard(ctx, orgId, former) {
  return card('dr-former', t('dr.formerTitle'),
    h('p', null, t('dr.formerLead')),
    former.length
      ? h('ul', { class: 'link-rows' }, former.map((p) => h('li', { 'data-testid': 'former-member' },
        h('span', null, fullName(p)), ' ',
        button(t('dr.erase'), { kind: 'danger', onClick: () => eraseDialog(ctx, orgId, p) }))))
      : h('p', { class: 'muted' }, t('dr.formerNone')));
}

async function eraseDialog(ctx, orgId, person) {
  let plan;
  try {
    plan = await api.dataRights.erasurePlan(orgId, person.person_id);
  } catch (e) {
    failed(e);
    return;
  }
  const reason = reasonField();
  const confirm = h('input', { type: 'checkbox', 'data-testid': 'erase-confirm' });
  const lines = [
    t('dr.planMessages', { n: plan.messages }),
    t('dr.planFiles', { n: plan.files }),
    t('dr.planReactions', { n: plan.reactions + plan.votes }),
    t('dr.planMemberships', { n: plan.memberships }),
    plan.link ? t('dr.planLink') : null,
    plan.parta_id ? t('dr.planPartaId') : null,
  ].filter(Boolean);
  await openDialog({
    title: t('dr.eraseTitle', { name: fullName(person) }),
    build: (body) => body.append(
      h('ul', { 'data-testid': 'erasure-plan' }, lines.map((l) => h('li', null, l))),
      reason.wrap,
      h('label', { class: 'check' }, confirm, ' ', t('dr.confirm'))),
    submitLabel: t('dr.eraseDo'),
    submitKind: 'danger',
    onSubmit: async ({ showError }) => {
      if (!reason.input.value.trim()) {
        reason.setError(t('dr.reasonNeeded'));
        return false;
      }
      if (!confirm.checked) {
        showError(t('dr.confirmNeeded'));
        return false;
      }
      await api.dataRights.erase(orgId, person.person_id, reason.input.value);
      announce(t('dr.erased'));
      ctx.rerender();
      return true;
    },
  });
}

function auditCard(lines) {
  return card('dr-audit', t('dr.audit'),
    lines.length
      ? h('ul', { class: 'link-rows', 'data-testid': 'rights-audit' }, lines.map((l) => h('li', { 'data-testid': 'rights-audit-line' },
        h('div', null,
          h('strong', null, t(`dr.action.${l.action}`)),
          l.person_name ? ` · ${l.person_name}` : '',
          h('div', { class: 'muted' }, `${formatDateTime(l.at)} · ${l.actor_name || t('dr.system')}${l.reason ? ` · ${l.reason}` : ''}`)))))
      : h('p', { class: 'muted' }, t('common.none')));
}
