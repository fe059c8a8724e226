// @ts-check
// Attachments: the composer's tray (pick, drag and drop, paste; uploads with
// progress), a message's photos and files, and a chat's «Файлы» panel.
// Uploads go to POST /api/messenger/chats/{chat}/files as the raw body; a
// send then names the finished ones in `attachments`.

import { ApiError } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { t, addStrings, errorText } from '../i18n.js';
import * as fmt from './format.js';

addStrings({
  ru: {
    'files.attach': 'Прикрепить файл',
    'files.remove': 'Убрать {name}',
    'files.uploading': 'Загрузка {name}: {pct}%',
    'files.failed': 'Не удалось загрузить {name}',
    'files.dropHere': 'Отпустите, чтобы прикрепить',
    'files.tooMany': 'К одному сообщению можно прикрепить не больше 10 файлов.',
    'files.title': 'Файлы',
    'files.open': 'Файлы чата',
    'files.none': 'В этом чате пока нет файлов.',
    'files.close': 'Закрыть',
    'files.photo': 'Фото: {name}',
    'files.download': 'Скачать {name}',
    'files.wait': 'Дождитесь загрузки файлов.',
    'files.video': 'Видео: {name}',
    'files.noPlayer': 'Этот браузер не показывает такое видео. Скачайте его, чтобы посмотреть.',
    'files.noViewer': 'Этот браузер не показывает фото в таком формате. Скачайте его, чтобы посмотреть.',
  },
  en: {
    'files.attach': 'Attach a file',
    'files.remove': 'Remove {name}',
    'files.uploading': 'Uploading {name}: {pct}%',
    'files.failed': 'Could not upload {name}',
    'files.dropHere': 'Drop to attach',
    'files.tooMany': 'A message can carry at most 10 files.',
    'files.title': 'Files',
    'files.open': 'Chat files',
    'files.none': 'No files in this chat yet.',
    'files.close': 'Close',
    'files.photo': 'Photo: {name}',
    'files.download': 'Download {name}',
    'files.wait': 'Wait for the files to finish uploading.',
    'files.video': 'Video: {name}',
    'files.noPlayer': 'This browser cannot show this video. Download it to watch.',
    'files.noViewer': 'This browser cannot show a photo in this format. Download it to see it.',
  },
});

const MAX_FILES = 10;
const PAPERCLIP = 'M21 11.5 12.5 20a5 5 0 0 1-7-7L14 4.5a3.3 3.3 0 0 1 4.7 4.7L10.2 17.7a1.7 1.7 0 0 1-2.4-2.4L15.5 7.6';
const FILE = ['M6 3h8l4 4v14H6V3Z', 'M14 3v4h4'];
const FILM = ['M4 5h16v14H4V5Z', 'M10 9.5v5l4-2.5-4-2.5Z'];
const PICTURE = ['M4 5h16v14H4V5Z', 'M4 16l5-5 4 4 2-2 5 5', 'M15.5 9.5h.01'];

/** Photos Parta cleans without decoding (no server preview): the browser shows them if it can. */
const BROWSER_PHOTOS = ['image/heic', 'image/heif', 'image/avif'];

function isVideo(a) {
  return a.kind === 'file' && a.mime.startsWith('video/');
}

function isBrowserPhoto(a) {
  return a.kind === 'file' && BROWSER_PHOTOS.includes(a.mime);
}

/** Parta's stylesheet for files and search, once per page. */
export function ensureStyles() {
  if (document.querySelector('link[data-pm-files]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/chat/files.css', 'data-pm-files': '' }));
}

function svg(paths) {
  const el = icon('x');
  clear(el);
  for (const d of [].concat(paths)) {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', d);
    el.append(p);
  }
  return el;
}

export function fileUrl(id) {
  return `/api/messenger/files/${encodeURIComponent(id)}`;
}

export function sizeText(bytes) {
  const units = ['Б', 'КБ', 'МБ', 'ГБ'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u += 1;
  }
  return `${u === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[u]}`.replace('.', ',');
}

/** Uploads one file with progress; resolves to the attachment. */
export function uploadFile(chat, file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/messenger/chats/${encodeURIComponent(chat)}/files`);
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name || 'file'));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onabort = () => reject(new ApiError(0, null));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

/**
 * The composer's attachments: a paperclip button, a hidden file input and a
 * tray of uploads. `onChange` is called whenever the tray changes.
 */
export class AttachmentTray {
  constructor(chat, onChange) {
    ensureStyles();
    this.chat = chat;
    this.onChange = onChange;
    this.items = [];
    this.input = h('input', { type: 'file', multiple: true, hidden: true, 'data-testid': 'file-input' });
    this.input.addEventListener('change', () => {
      this.add(this.input.files);
      this.input.value = '';
    });
    this.button = h('button', {
      type: 'button', class: 'pm-attach', 'aria-label': t('files.attach'), title: t('files.attach'), 'data-testid': 'attach',
    }, svg(PAPERCLIP));
    this.button.addEventListener('click', () => this.input.click());
    this.el = h('ul', { class: 'pm-tray', hidden: true, 'aria-label': t('files.title'), 'data-testid': 'tray' });
    this.error = h('p', { class: 'pm-tray-error', role: 'alert' });
  }

  /** Files pasted into `field` are attached. */
  listenPaste(field) {
    field?.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (!files.length) return;
      e.preventDefault();
      this.add(files);
    });
  }

  add(list) {
    this.error.textContent = '';
    for (const file of [...list]) {
      if (this.items.length >= MAX_FILES) {
        this.error.textContent = t('files.tooMany');
        break;
      }
      const item = { file, progress: 0, state: 'uploading', result: null, ctl: new AbortController() };
      this.items.push(item);
      uploadFile(this.chat, file, (p) => {
        item.progress = p;
        this.render();
      }, item.ctl.signal).then((result) => {
        item.state = 'done';
        item.result = result;
        this.render();
      }, (e) => {
        if (item.ctl.signal.aborted) return;
        item.state = 'failed';
        item.message = e.body ? errorText(e.body) : e.text();
        this.render();
      });
    }
    this.render();
  }

  remove(item) {
    item.ctl.abort();
    this.items = this.items.filter((x) => x !== item);
    this.render();
  }

  /** Ids of the finished uploads, in order. */
  ready() {
    return this.items.filter((x) => x.state === 'done').map((x) => x.result.id);
  }

  busy() {
    return this.items.some((x) => x.state === 'uploading');
  }

  clear() {
    this.items = [];
    this.error.textContent = '';
    this.render();
  }

  render() {
    clear(this.el);
    this.el.hidden = !this.items.length;
    for (const item of this.items) {
      const name = item.file.name || 'file';
      const pct = Math.round(item.progress * 100);
      const status = item.state === 'uploading' ? t('files.uploading', { name, pct })
        : item.state === 'failed' ? `${t('files.failed', { name })}: ${item.message}` : name;
      const bar = h('span', { class: 'pm-tray-bar', role: 'progressbar', 'aria-valuenow': String(pct), 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': status });
      bar.style.setProperty('--pct', `${pct}%`);
      const remove = h('button', { type: 'button', class: 'pm-tray-remove', 'aria-label': t('files.remove', { name }), title: t('files.remove', { name }) }, icon('x'));
      remove.addEventListener('click', () => this.remove(item));
      this.el.append(h('li', { class: `pm-tray-item is-${item.state}`, 'data-testid': 'tray-item', 'data-state': item.state },
        svg(FILE), h('span', { class: 'pm-tray-name', title: status }, item.state === 'failed' ? status : name),
        item.state === 'uploading' ? bar : h('span', { class: 'pm-tray-size' }, sizeText(item.file.size)), remove));
    }
    this.onChange?.();
  }
}

/** Files dropped onto `zone` go to the tray `getTray()` returns then. */
export function bindDrops(zone, getTray) {
  zone.addEventListener('dragover', (e) => {
    if (!getTray() || ![...(e.dataTransfer?.types || [])].includes('Files')) return;
    e.preventDefault();
    zone.classList.add('pm-dropping');
  });
  zone.addEventListener('dragleave', (e) => {
    if (!zone.contains(e.relatedTarget)) zone.classList.remove('pm-dropping');
  });
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('pm-dropping');
    const tray = getTray();
    if (!tray || !e.dataTransfer?.files?.length) return;
    e.preventDefault();
    tray.add(e.dataTransfer.files);
  });
}

/**
 * A message's photos (previews opening the full image), videos (the
 * browser's player; a tile to download when it cannot play them), HEIC and
 * AVIF photos (shown by browsers that decode them) and files (downloads).
 */
export function attachmentsEl(m) {
  ensureStyles();
  const photos = m.attachments.filter((a) => a.kind === 'image');
  const videos = m.attachments.filter(isVideo);
  const shownByBrowser = m.attachments.filter(isBrowserPhoto);
  const files = m.attachments.filter((a) => a.kind !== 'image' && !isVideo(a) && !isBrowserPhoto(a));
  const out = h('div', { class: 'pm-attachments' });
  if (photos.length) {
    const grid = h('div', { class: `pm-photos pm-photos-${Math.min(photos.length, 3)}` });
    for (const a of photos) {
      const img = h('img', { src: `${fileUrl(a.id)}/thumbnail`, alt: t('files.photo', { name: a.name }), loading: 'lazy', 'data-testid': 'photo' });
      if (a.width && a.height) {
        img.setAttribute('width', String(a.width));
        img.setAttribute('height', String(a.height));
      }
      grid.append(h('a', { href: fileUrl(a.id), target: '_blank', rel: 'noopener', class: 'pm-photo' }, img));
    }
    out.append(grid);
  }
  for (const a of videos) out.append(videoEl(a));
  for (const a of shownByBrowser) out.append(browserPhotoEl(a));
  for (const a of files) out.append(fileRow(a));
  return out;
}

/** The browser's own player: it fetches the movie's header by range and shows the first frame. */
function videoEl(a) {
  const video = h('video', {
    src: fileUrl(a.id), controls: true, preload: 'metadata', playsinline: true,
    'aria-label': t('files.video', { name: a.name }), 'data-testid': 'video',
  });
  const tile = h('figure', { class: 'pm-video' }, video, h('figcaption', null, fileRow(a, FILM)));
  video.addEventListener('error', () => tile.replaceWith(mediaTile(a, FILM, t('files.noPlayer'), 'video-tile')), { once: true });
  return tile;
}

/** A HEIC or AVIF photo, as the browser decodes it; a tile to download where it cannot. */
function browserPhotoEl(a) {
  const img = h('img', { src: fileUrl(a.id), alt: t('files.photo', { name: a.name }), loading: 'lazy', 'data-testid': 'photo' });
  const link = h('a', { href: fileUrl(a.id), target: '_blank', rel: 'noopener', class: 'pm-photo pm-photo-original' }, img);
  img.addEventListener('error', () => link.replaceWith(mediaTile(a, PICTURE, t('files.noViewer'), 'photo-tile')), { once: true });
  return link;
}

/** A generic tile for a video or photo this browser cannot show: its kind, name, size and why. */
function mediaTile(a, paths, why, testid) {
  return h('a', {
    href: fileUrl(a.id), download: a.name, class: 'pm-file pm-media-tile', 'data-testid': testid, title: why,
    'aria-label': `${t('files.download', { name: a.name })}. ${why}`,
  }, svg(paths), h('span', { class: 'pm-file-text' }, h('span', { class: 'pm-file-name' }, a.name),
    h('span', { class: 'pm-file-size' }, `${sizeText(a.size)} · ${why}`)));
}

function fileRow(a, paths = FILE) {
  return h('a', {
    href: fileUrl(a.id), download: a.name, class: 'pm-file', 'data-testid': 'file', 'aria-label': t('files.download', { name: a.name }),
  }, svg(paths), h('span', { class: 'pm-file-text' }, h('span', { class: 'pm-file-name' }, a.name),
    h('span', { class: 'pm-file-size' }, sizeText(a.size))));
}

/** The «Файлы» panel of a chat: every attachment, newest first. */
export async function openFilesPanel(chat, anchor) {
  ensureStyles();
  const close = h('button', { type: 'button', class: 'pm-icon-btn', 'aria-label': t('files.close'), title: t('files.close') }, icon('x'));
  const list = h('ul', { class: 'pm-files-list', 'data-testid': 'files-list' }, h('li', null, h('span', { class: 'spinner' })));
  const panel = h('div', { class: 'pm-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('files.title'), 'data-testid': 'files-panel' },
    h('div', { class: 'pm-overlay-box' },
      h('header', { class: 'pm-overlay-head' }, h('h2', null, t('files.title')), close), list));
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
  document.body.append(panel);
  close.focus();
  try {
    const res = await fetch(`/api/messenger/chats/${encodeURIComponent(chat)}/files`, { credentials: 'same-origin' });
    const body = await res.json();
    if (!res.ok) throw new ApiError(res.status, body);
    clear(list);
    if (!body.length) list.append(h('li', { class: 'pm-files-none' }, t('files.none')));
    for (const f of body) {
      list.append(h('li', null, f.kind === 'image'
        ? h('a', { href: fileUrl(f.id), target: '_blank', rel: 'noopener', class: 'pm-file' },
          h('img', { src: `${fileUrl(f.id)}/thumbnail`, alt: '', class: 'pm-file-thumb' }),
          h('span', { class: 'pm-file-text' }, h('span', { class: 'pm-file-name' }, f.name),
            h('span', { class: 'pm-file-size' }, `${fmt.shortName(f.author.name)} · ${fmt.fullTime(f.at)}`)))
        : fileRow(f, isVideo(f) ? FILM : isBrowserPhoto(f) ? PICTURE : FILE)));
    }
  } catch (e) {
    clear(list).append(h('li', { class: 'pm-tray-error' }, e.text ? e.text() : t('error.unknown')));
  }
}

export { PAPERCLIP, svg };
