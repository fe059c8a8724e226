// The Parta ID steps walked as a person would: the phone number, the code read
// from the demo-mode hint on the page, "Информация о себе".

/** Types the number and presses «Получить код». */
export async function enterPhone(page, phone) {
  await page.getByLabel('Номер телефона').fill(phone);
  await page.getByRole('button', { name: 'Получить код' }).click();
}

/** The code the demo hint shows («Демо-режим: код 123456»). */
export async function demoCode(page) {
  const hint = page.getByTestId('demo-code');
  await hint.waitFor();
  const text = await hint.textContent();
  const m = /^Демо-режим: код (\d{6})$/.exec(text.trim());
  if (!m) throw new Error(`unexpected demo hint: ${text}`);
  return m[1];
}

/** On the code step: types `code` (by default the one from the demo hint) and continues. */
export async function enterCode(page, code) {
  await page.getByRole('heading', { name: 'Введите код из SMS' }).waitFor();
  const value = code ?? await demoCode(page);
  await page.getByLabel('Код из SMS').fill(value);
  await page.getByRole('button', { name: 'Продолжить' }).click();
}

/** Registers a Parta ID on /messenger; ends on the messenger's home screen (the chat list and the greeting). */
export async function registerInMessenger(page, { phone, lastName, firstName, middleName = '', password = '' }) {
  await page.goto('/messenger');
  await page.getByRole('link', { name: 'Зарегистрироваться' }).click();
  await page.getByRole('heading', { level: 1, name: 'Регистрация в Parta ID' }).waitFor();
  await enterPhone(page, phone);
  await enterCode(page);
  await page.getByRole('heading', { level: 1, name: 'Информация о себе' }).waitFor();
  await page.getByLabel('Фамилия').fill(lastName);
  await page.getByLabel('Имя', { exact: true }).fill(firstName);
  await page.getByLabel(/^Отчество/).fill(middleName);
  if (password) await page.getByTestId('new-password').fill(password);
  await page.getByRole('button', { name: 'Зарегистрироваться' }).click();
  await page.getByRole('heading', { level: 2, name: /^Здравствуйте, / }).waitFor();
}

/**
 * Signs in to the school portal as `login`, links a new learning profile with
 * `phone` in «Чаты» (one SMS code), and goes to the messenger with
 * «Перейти в Parta Мессенджер»; ends on the messenger's chat list.
 */
export async function linkAndOpenMessenger(page, { login, phone, password = 'parta2026' }) {
  await page.goto('/');
  await page.getByTestId('login').fill(login);
  await page.getByTestId('password').fill(password);
  await page.getByRole('button', { name: /^(Войти|Sign in)$/ }).click();
  await page.getByRole('heading', { level: 1, name: /^(Здравствуйте|Привет), / }).waitFor();
  await page.getByRole('banner').getByRole('link', { name: 'Чаты' }).click();
  await page.getByRole('button', { name: 'Привязать учебный профиль' }).click();
  await enterPhone(page, phone);
  await enterCode(page);
  await page.getByRole('heading', { name: 'Информация о себе' }).waitFor();
  await page.getByRole('button', { name: 'Продолжить' }).click();
  await page.getByTestId('chats-linked').waitFor();
  await page.getByRole('button', { name: 'Перейти в Parta Мессенджер' }).click();
  await page.waitForURL(/\/messenger/);
  await page.getByTestId('chat-row').first().waitFor();
}
