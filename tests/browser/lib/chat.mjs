// Finding and using the messenger's chats as a person would: the list's row
// of a chat, a message by its text, opening a chat, sending with Enter.

/** The chat list's row of the chat called exactly `name`. */
export function row(page, name) {
  return page.getByTestId('chat-row').filter({ has: page.locator('.pm-row-name').getByText(name, { exact: true }) });
}

/** The message (not a quote of it) whose text contains `text`. */
export function message(page, text) {
  return page.getByTestId('message').filter({ has: page.locator('.pm-text', { hasText: text }) });
}

export async function openChat(page, name) {
  await row(page, name).click();
  await page.getByRole('heading', { level: 2, name }).waitFor();
}

export async function send(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}
