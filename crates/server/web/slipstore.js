// @ts-check
// Issued one-time passwords, kept in memory only (never in storage) between
// issuing them on the class page and printing them on the slip page.

const slips = new Map();

export function keepSlip(org, classId, rows) {
  slips.set(`${org}/${classId}`, rows);
}

export function takeSlip(org, classId) {
  return slips.get(`${org}/${classId}`);
}
