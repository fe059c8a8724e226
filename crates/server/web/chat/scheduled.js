// Scheduled messages: the server sends them at their time. (Minimal: the
// scheduled-messages branch brings the full module; this is its one call.)

import { api } from '../api.js';

/** Schedules `text` into `chat` for `sendAt` (unix seconds); `extra` adds fields such as `client_id`. */
export function scheduleMessage(chat, text, sendAt, extra = {}) {
  return api.schedule(chat, { text, send_at: sendAt, ...extra });
}
