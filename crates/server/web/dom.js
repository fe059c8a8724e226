// @ts-check
// A tiny element builder. Text always goes in as text nodes, never as HTML, so
// names from the roster cannot inject markup.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children text, nodes, arrays of them; null, undefined and false are skipped
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement & Record<string, any>} el
 * @param {Record<string, any> | null | undefined} attrs
 */
function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = Boolean(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/**
 * @template {Element} E
 * @param {E} el
 * @param {any[]} children
 * @returns {E}
 */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * @template {Element} E
 * @param {E} el
 * @returns {E}
 */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const SVG = 'http://www.w3.org/2000/svg';

// 24×24 stroke icons (drawn for Parta, in the spirit of common open icon sets).
const ICONS = {
  home: ['M3 10.5 12 3l9 7.5', 'M5 9.5V20h5v-6h4v6h5V9.5'],
  users: ['M16 20v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 4 18.5V20', 'M10 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7', 'M20 20v-1.5a3.5 3.5 0 0 0-2.5-3.35', 'M15.5 4.15a3.5 3.5 0 0 1 0 6.7'],
  school: ['M3 9l9-5 9 5-9 5-9-5Z', 'M7 11.2V16c0 1.2 2.2 3 5 3s5-1.8 5-3v-4.8', 'M21 9v6'],
  chat: ['M4 5h16v11H9l-5 4V5Z'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  x: ['M6 6l12 12', 'M18 6 6 18'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z', 'M12 11v5', 'M12 7.5v.5'],
  plus: ['M12 5v14', 'M5 12h14'],
  search: ['M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14Z', 'M20 20l-4-4'],
  chevron: ['M9 6l6 6-6 6'],
  back: ['M15 6l-6 6 6 6'],
  logout: ['M10 5H5v14h5', 'M14 8l4 4-4 4', 'M18 12H9'],
  key: ['M8.5 15.5a4 4 0 1 1 3.2-6.4L20 9v3h-2.5v2.5H15V12h-3.3a4 4 0 0 1-3.2 3.5Z'],
  print: ['M7 9V4h10v5', 'M7 17H5a1 1 0 0 1-1-1v-6a1 1 0 0 1 1-1h14a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1h-2', 'M7 14h10v6H7v-6Z'],
  edit: ['M4 20h4L19 9l-4-4L4 16v4Z', 'M13.5 6.5l4 4'],
  move: ['M4 12h15', 'M14 7l5 5-5 5'],
  eye: ['M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12Z', 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6Z'],
  teacher: ['M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Z', 'M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1'],
  book: ['M4 5.5A2.5 2.5 0 0 1 6.5 3H20v15H6.5A2.5 2.5 0 0 0 4 20.5v-15Z', 'M4 20.5A2.5 2.5 0 0 0 6.5 23H20v-5'],
  send: ['M21 3 3 10.5l7.5 3L21 3Z', 'M21 3l-7.5 18-3-7.5'],
  reply: ['M9 6 4 11l5 5', 'M4 11h10a6 6 0 0 1 6 6v2'],
  pin: ['M9 3h6l-1 6 3.5 3.5V15h-11v-2.5L10 9 9 3Z', 'M12 15v6'],
  copy: ['M9 8h11v12H9V8Z', 'M15 8V4H4v12h5'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  bell: ['M6 16v-5a6 6 0 1 1 12 0v5l2 2H4l2-2Z', 'M10 20.5a2 2 0 0 0 4 0'],
  down: ['M12 5v14', 'M6 13l6 6 6-6'],
  clock: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z', 'M12 7.5V12l3 2'],
  megaphone: ['M4 10v4h3l8 4.5V5.5L7 10H4Z', 'M18.5 9.5a3.5 3.5 0 0 1 0 5'],
  archive: ['M3 4h18v4H3V4Z', 'M5 8v12h14V8', 'M10 12h4'],
  sliders: ['M4 6h9', 'M17 6h3', 'M4 12h3', 'M11 12h9', 'M4 18h11', 'M19 18h1', 'M15 4v4', 'M9 10v4', 'M17 16v4'],
  sent: ['M5 12.5l4.5 4.5L19 7.5'],
  read: ['M2 12.5l4.5 4.5L16 7.5', 'M11.5 16.5l.5.5L21.5 7.5'],
  alert: ['M12 4 2.5 20h19L12 4Z', 'M12 10v4', 'M12 17v.5'],
  offline: ['M3 3l18 18', 'M8.5 16.5a5 5 0 0 1 7 0', 'M5 12.5a10 10 0 0 1 4-2.3', 'M12 20h.01', 'M19 12.5a10 10 0 0 0-3.5-2.1', 'M2 8.8a15 15 0 0 1 4.4-2.6', 'M22 8.8A15 15 0 0 0 10.7 5'],
};

/**
 * @param {string} name
 * @param {string} [cls]
 * @returns {SVGSVGElement}
 */
export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon ${cls}`.trim());
  for (const d of ICONS[name] ?? []) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/** "Иванова Мария Петровна". */
export function fullName(p) {
  if (!p) return '';
  return [p.last_name, p.first_name, p.middle_name].filter(Boolean).join(' ');
}

/** Two-letter initials for an avatar: "ИМ". */
export function initials(p) {
  const a = (p.last_name || '').trim()[0] || '';
  const b = (p.first_name || '').trim()[0] || '';
  return (a + b).toUpperCase();
}

export function rolesOf(brief) {
  return (brief.roles || '').split(',').map((r) => r.trim()).filter(Boolean);
}
