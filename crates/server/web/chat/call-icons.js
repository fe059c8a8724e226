// @ts-check
// The icons of calls, 24×24 strokes like the rest (dom.js), drawn with
// attachments.js's svg().

export { svg } from './attachments.js';

export const PHONE = ['M6.5 3.5h3l1.5 4.5-2 1.5a11 11 0 0 0 5.5 5.5l1.5-2 4.5 1.5v3a2 2 0 0 1-2 2A16 16 0 0 1 4.5 5.5a2 2 0 0 1 2-2Z'];
export const CAMERA = ['M3 7h12v10H3V7Z', 'M15 10.5 21 7v10l-6-3.5'];
export const CAMERA_OFF = [...CAMERA, 'M3 3l18 18'];
export const MIC = ['M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3Z', 'M5.5 11a6.5 6.5 0 0 0 13 0', 'M12 17.5V21'];
export const MIC_OFF = [...MIC, 'M3 3l18 18'];
export const SCREEN = ['M3 4h18v12H3V4Z', 'M8 20h8', 'M12 16v4', 'M12 13V7.5', 'M9.5 10 12 7.5l2.5 2.5'];
export const HANG_UP = ['M2.5 14c5.3-4.6 13.7-4.6 19 0l-2.2 3-3.8-1.4v-2.7a12 12 0 0 0-7 0v2.7L4.7 17l-2.2-3Z'];
export const HAND = ['M8 13V6a1.5 1.5 0 0 1 3 0v5', 'M11 11V4.5a1.5 1.5 0 0 1 3 0V11', 'M14 11V6a1.5 1.5 0 0 1 3 0v8a7 7 0 0 1-7 7h-.5a6 6 0 0 1-4.8-2.4L2.6 15.8a1.6 1.6 0 0 1 2.5-2L8 16.5'];
