// Every string the portal shows, in Russian (the default) and English.
// Keys are stable; `{name}` placeholders are filled by t(key, {name}).

const STORAGE_KEY = 'parta.lang';
export const LANGS = ['ru', 'en'];

const ru = {
  'app.name': 'Parta',
  'app.tagline': 'Школьный портал',
  'app.loading': 'Загрузка…',
  'app.skip': 'Перейти к содержимому',
  'lang.switch': 'Язык интерфейса',
  'lang.ru': 'Русский',
  'lang.en': 'English',

  'header.signout': 'Выйти',
  'header.home': 'Главная',
  'header.user': 'Вы вошли как {name}',

  'error.network': 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.',
  'error.unknown': 'Что-то пошло не так. Попробуйте ещё раз.',
  'error.notFound': 'Страница не найдена.',
  'error.notFoundHint': 'Возможно, ссылка устарела.',
  'error.forbiddenTitle': 'Нет доступа',
  'error.toHome': 'Вернуться на главную',
  'error.retry': 'Попробовать ещё раз',

  'login.title': 'Вход в школьный портал',
  'login.lead': 'Введите логин и пароль, которые вам выдали в школе.',
  'login.login': 'Логин',
  'login.password': 'Пароль',
  'login.submit': 'Войти',
  'login.busy': 'Входим…',
  'login.show': 'Показать',
  'login.hide': 'Скрыть',
  'login.showPassword': 'Показать пароль',
  'login.hidePassword': 'Скрыть пароль',
  'login.needLogin': 'Введите логин.',
  'login.needPassword': 'Введите пароль.',
  'login.help': 'Нет логина или забыли пароль? Обратитесь к классному руководителю или администратору школы.',
  'demo.title': 'Демо-доступ',
  'demo.lead': 'Это демонстрационная школа. Выберите, под кем войти, — логин и пароль подставятся сами.',
  'demo.fill': 'Подставить',
  'demo.fillFor': 'Подставить логин и пароль: {name}',
  'demo.filled': 'Логин и пароль подставлены. Нажмите «Войти».',

  'password.title': 'Придумайте свой пароль',
  'password.lead': 'Вы вошли по временному паролю из школы. Придумайте свой пароль, чтобы никто другой не мог войти под вашим именем.',
  'password.current': 'Временный пароль',
  'password.new': 'Новый пароль',
  'password.newHint': 'Не короче 8 символов. Запишите его и никому не показывайте.',
  'password.repeat': 'Повторите новый пароль',
  'password.submit': 'Сохранить пароль',
  'password.busy': 'Сохраняем…',
  'password.tooShort': 'Пароль должен быть не короче 8 символов.',
  'password.mismatch': 'Пароли не совпадают.',
  'password.needCurrent': 'Введите временный пароль.',
  'password.done': 'Пароль сохранён.',

  'home.hello': 'Здравствуйте, {name}!',
  'home.helloChild': 'Привет, {name}!',
  'home.lead': 'Это ваш школьный портал.',
  'home.orgs': 'Ваши организации',
  'home.noRoles': 'У вас пока нет ролей ни в одной организации. Обратитесь к администратору школы.',
  'home.yourRoles': 'Ваша роль',
  'home.yourRolesMany': 'Ваши роли',
  'home.chatsOn': 'Чаты подключены',
  'home.chatsOnHint': 'Скоро здесь появятся чаты класса и переписка с учителями.',
  'home.chatsOff': 'Чаты выключены',
  'home.chatsOffHint': 'Администратор школы пока не включил модуль «Чаты».',
  'home.chatsNotHere': 'Чатов нет',
  'home.chatsNotHereHint': 'Чаты бывают только в общеобразовательных школах.',
  'home.roster': 'Состав школы',
  'home.rosterHint': 'Классы, ученики, родители и учителя',
  'home.admin': 'Управление',
  'home.chatsModule': 'Модуль «Чаты»',
  'home.chatsModuleOn': 'Включён',
  'home.chatsModuleOff': 'Выключен',
  'home.chatsEnableTitle': 'Включить чаты?',
  'home.chatsEnableText': 'В «{org}» включатся чаты: ученики, родители и учителя смогут переписываться на портале.',
  'home.chatsDisableTitle': 'Выключить чаты?',
  'home.chatsDisableText': 'В «{org}» чаты станут недоступны для всех: учеников, родителей и учителей.',
  'home.chatsEnable': 'Включить',
  'home.chatsDisable': 'Выключить',
  'home.chatsSaved': 'Модуль «Чаты»: {state}.',

  'roles.administrator': 'Администратор',
  'roles.teacher': 'Учитель',
  'roles.other_staff': 'Сотрудник',
  'roles.student': 'Ученик',
  'roles.guardian': 'Родитель',
  'rolesPlural.administrator': 'Администраторы',
  'rolesPlural.teacher': 'Учителя',
  'rolesPlural.other_staff': 'Сотрудники',
  'rolesPlural.student': 'Ученики',
  'rolesPlural.guardian': 'Родители',
  'kinds.general_education': 'Общеобразовательная организация',
  'kinds.other': 'Другая организация',

  'common.save': 'Сохранить',
  'common.saving': 'Сохраняем…',
  'common.saved': 'Сохранено.',
  'common.cancel': 'Отмена',
  'common.close': 'Закрыть',
  'common.edit': 'Изменить',
  'common.remove': 'Убрать',
  'common.add': 'Добавить',
  'common.search': 'Найти',
  'common.back': 'Назад',
  'common.none': '—',
  'common.yes': 'Да',
  'common.confirm': 'Подтвердить',
  'common.required': 'обязательно',
  'common.optional': 'необязательно',
  'common.fillRequired': 'Заполните обязательные поля.',
  'common.print': 'Распечатать',
  'common.more': 'Показать ещё',
  'common.loading': 'Загружаем…',

  'roster.title': 'Состав школы',
  'roster.pickOrg': 'Выберите организацию',
  'roster.pickOrgLead': 'Вы администратор в нескольких организациях.',
  'roster.notAdmin': 'Состав школы видят только администраторы.',
  'roster.tabClasses': 'Классы',
  'roster.tabPeople': 'Люди',
  'roster.sections': 'Разделы',
  'roster.addClass': 'Добавить класс',
  'roster.addClassTitle': 'Новый класс',
  'roster.className': 'Название класса',
  'roster.classNameHint': 'Номер от 1 до 11 и буква: «5А», «10 Физмат».',
  'roster.classNameBad': 'Название класса — номер от 1 до 11 и буква или слово, например «5А».',
  'roster.classCreated': 'Класс {name} добавлен.',
  'roster.noClasses': 'Классов пока нет. Добавьте первый класс или загрузите данные из учётной системы школы.',
  'roster.grade': '{n} классы',
  'roster.gradeLabel': 'Параллель {n}',
  'roster.classTeacher': 'Классный руководитель',
  'roster.noClassTeacher': 'Классный руководитель не назначен',
  'roster.summary': '{classes}, {students}',
  'roster.searchLabel': 'Поиск по фамилии, имени или логину',
  'roster.searchPlaceholder': 'Например, Иванова',
  'roster.roleLabel': 'Роль',
  'roster.allRoles': 'Все роли',
  'roster.noPeople': 'Никого не нашлось. Проверьте написание или выберите другую роль.',
  'roster.found': 'Показано: {n}',
  'roster.addPerson': 'Добавить человека',
  'roster.addPersonTitle': 'Новый человек',
  'roster.personCreated': 'Добавлено: {name}.',
  'roster.hasPassword': 'Пароль выдан',
  'roster.noPassword': 'Нет пароля',
  'roster.noLogin': 'Нет логина',

  'class.students': 'Ученики',
  'class.parents': 'Родители',
  'class.noParents': 'Родители не указаны',
  'class.noStudents': 'В классе пока нет учеников.',
  'class.subjects': 'Предметы и учителя',
  'class.noSubjects': 'Предметы для класса ещё не заданы.',
  'class.subject': 'Предмет',
  'class.group': 'Группа',
  'class.wholeClass': 'Весь класс',
  'class.groupOf': '{group} · {students}',
  'class.groupN': 'Группа {n}',
  'class.teachers': 'Учителя',
  'class.noTeacher': 'Учитель не назначен',
  'class.rename': 'Переименовать',
  'class.renameTitle': 'Переименовать класс',
  'class.renamed': 'Класс переименован.',
  'class.teacherSelect': 'Классный руководитель',
  'class.teacherNone': '— не назначен —',
  'class.teacherChange': 'Сменить классного руководителя',
  'class.teacherSaved': 'Классный руководитель сохранён.',
  'class.issue': 'Выдать пароли',
  'class.issueHint': 'Ученикам и родителям, у которых ещё нет пароля.',
  'class.issueTitle': 'Выдать пароли классу {name}?',
  'class.issueText': 'Ученики и родители этого класса, у которых ещё нет пароля, получат временные пароли. Пароли покажутся только один раз — сразу распечатайте лист и раздайте.',
  'class.issueConfirm': 'Выдать и показать лист',
  'class.move': 'Перевести',
  'class.moveTitle': 'Перевести в другой класс',
  'class.moveWho': 'Ученик: {name}',
  'class.moveTo': 'Новый класс',
  'class.moveSubmit': 'Перевести',
  'class.moved': '{name}: переведён(а) в {class}.',
  'class.year': 'Учебный год {year}',
  'class.noLoginHint': 'Пароль: {state}',

  'person.roles': 'Роли',
  'person.login': 'Логин',
  'person.password': 'Пароль',
  'person.classes': 'Классы',
  'person.noClasses': 'Не привязан(а) ни к одному классу.',
  'person.relStudent': 'Ученик класса',
  'person.relClassTeacher': 'Классный руководитель',
  'person.relTeacher': 'Учитель',
  'person.parents': 'Родители',
  'person.noParents': 'Родители не указаны.',
  'person.children': 'Дети',
  'person.noChildren': 'Дети не указаны.',
  'person.edit': 'Изменить данные',
  'person.editTitle': 'Данные человека',
  'person.lastName': 'Фамилия',
  'person.firstName': 'Имя',
  'person.middleName': 'Отчество',
  'person.loginField': 'Логин',
  'person.loginHint': 'Латинские буквы, цифры и знаки . _ - @, от 3 символов.',
  'person.loginBad': 'Логин — от 3 до 64 латинских букв, цифр или знаков . _ - @.',
  'person.rolesField': 'Роли в организации',
  'person.needRole': 'Выберите хотя бы одну роль.',
  'person.saved': 'Изменения сохранены.',
  'person.addParent': 'Добавить родителя',
  'person.addChild': 'Добавить ребёнка',
  'person.findParent': 'Найти родителя по фамилии',
  'person.findChild': 'Найти ученика по фамилии',
  'person.findHint': 'Введите хотя бы 2 буквы.',
  'person.nothingFound': 'Никого не нашлось.',
  'person.removeLink': 'Убрать связь: {name}',
  'person.removeTitle': 'Убрать связь?',
  'person.removeText': '{guardian} больше не будет указан(а) как родитель ученика {student}.',
  'person.linkAdded': 'Связь добавлена: {name}.',
  'person.linkRemoved': 'Связь убрана: {name}.',
  'person.move': 'Перевести в другой класс',

  'slip.title': 'Пароли для входа — {name}',
  'slip.lead': 'Разрежьте лист и раздайте каждому его карточку. При первом входе портал попросит придумать свой пароль.',
  'slip.empty': 'У всех учеников и родителей этого класса уже есть пароли. Новых паролей не выдано.',
  'slip.gone': 'Пароли показываются только один раз и уже не сохранены. Если лист потерян, временные пароли можно выдать заново только тем, у кого пароля нет.',
  'slip.issued': 'Выдано паролей: {n}',
  'slip.portal': 'Школьный портал Parta',
  'slip.address': 'Адрес',
  'slip.login': 'Логин',
  'slip.password': 'Временный пароль',
  'slip.firstLogin': 'При первом входе придумайте свой пароль.',
  'slip.toClass': 'Вернуться к классу',
  'slip.forStudent': 'ученик',
  'slip.forGuardian': 'родитель',
};

const en = {
  'app.name': 'Parta',
  'app.tagline': 'School portal',
  'app.loading': 'Loading…',
  'app.skip': 'Skip to content',
  'lang.switch': 'Interface language',
  'lang.ru': 'Русский',
  'lang.en': 'English',

  'header.signout': 'Sign out',
  'header.home': 'Home',
  'header.user': 'Signed in as {name}',

  'error.network': 'Cannot reach the server. Check your connection and try again.',
  'error.unknown': 'Something went wrong. Please try again.',
  'error.notFound': 'Page not found.',
  'error.notFoundHint': 'The link may be out of date.',
  'error.forbiddenTitle': 'No access',
  'error.toHome': 'Back to the home page',
  'error.retry': 'Try again',

  'login.title': 'Sign in to the school portal',
  'login.lead': 'Enter the login and password you were given at school.',
  'login.login': 'Login',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.show': 'Show',
  'login.hide': 'Hide',
  'login.showPassword': 'Show password',
  'login.hidePassword': 'Hide password',
  'login.needLogin': 'Enter your login.',
  'login.needPassword': 'Enter your password.',
  'login.help': 'No login, or forgot your password? Ask your class teacher or the school administrator.',
  'demo.title': 'Demo access',
  'demo.lead': 'This is a demo school. Pick who to sign in as — the login and password are filled in for you.',
  'demo.fill': 'Fill in',
  'demo.fillFor': 'Fill in the login and password of {name}',
  'demo.filled': 'Login and password filled in. Press “Sign in”.',

  'password.title': 'Choose your own password',
  'password.lead': 'You signed in with a temporary password from school. Choose your own so that nobody else can sign in as you.',
  'password.current': 'Temporary password',
  'password.new': 'New password',
  'password.newHint': 'At least 8 characters. Write it down and do not show it to anyone.',
  'password.repeat': 'Repeat the new password',
  'password.submit': 'Save password',
  'password.busy': 'Saving…',
  'password.tooShort': 'A password must be at least 8 characters long.',
  'password.mismatch': 'The passwords do not match.',
  'password.needCurrent': 'Enter the temporary password.',
  'password.done': 'Password saved.',

  'home.hello': 'Hello, {name}!',
  'home.helloChild': 'Hi, {name}!',
  'home.lead': 'This is your school portal.',
  'home.orgs': 'Your organisations',
  'home.noRoles': 'You have no role in any organisation yet. Ask the school administrator.',
  'home.yourRoles': 'Your role',
  'home.yourRolesMany': 'Your roles',
  'home.chatsOn': 'Chats are available',
  'home.chatsOnHint': 'Class chats and messages with teachers will appear here soon.',
  'home.chatsOff': 'Chats are switched off',
  'home.chatsOffHint': 'The school administrator has not switched on the Chats module yet.',
  'home.chatsNotHere': 'No chats here',
  'home.chatsNotHereHint': 'Chats are only available in general education schools.',
  'home.roster': 'School roster',
  'home.rosterHint': 'Classes, students, parents and teachers',
  'home.admin': 'Administration',
  'home.chatsModule': 'Chats module',
  'home.chatsModuleOn': 'On',
  'home.chatsModuleOff': 'Off',
  'home.chatsEnableTitle': 'Switch chats on?',
  'home.chatsEnableText': 'Chats will be switched on in “{org}”: students, parents and teachers will be able to message each other in the portal.',
  'home.chatsDisableTitle': 'Switch chats off?',
  'home.chatsDisableText': 'Chats in “{org}” will become unavailable to everyone: students, parents and teachers.',
  'home.chatsEnable': 'Switch on',
  'home.chatsDisable': 'Switch off',
  'home.chatsSaved': 'Chats module: {state}.',

  'roles.administrator': 'Administrator',
  'roles.teacher': 'Teacher',
  'roles.other_staff': 'Staff',
  'roles.student': 'Student',
  'roles.guardian': 'Parent',
  'rolesPlural.administrator': 'Administrators',
  'rolesPlural.teacher': 'Teachers',
  'rolesPlural.other_staff': 'Staff',
  'rolesPlural.student': 'Students',
  'rolesPlural.guardian': 'Parents',
  'kinds.general_education': 'General education school',
  'kinds.other': 'Other organisation',

  'common.save': 'Save',
  'common.saving': 'Saving…',
  'common.saved': 'Saved.',
  'common.cancel': 'Cancel',
  'common.close': 'Close',
  'common.edit': 'Edit',
  'common.remove': 'Remove',
  'common.add': 'Add',
  'common.search': 'Search',
  'common.back': 'Back',
  'common.none': '—',
  'common.yes': 'Yes',
  'common.confirm': 'Confirm',
  'common.required': 'required',
  'common.optional': 'optional',
  'common.fillRequired': 'Fill in the required fields.',
  'common.print': 'Print',
  'common.more': 'Show more',
  'common.loading': 'Loading…',

  'roster.title': 'School roster',
  'roster.pickOrg': 'Choose an organisation',
  'roster.pickOrgLead': 'You are an administrator in several organisations.',
  'roster.notAdmin': 'Only administrators can see the school roster.',
  'roster.tabClasses': 'Classes',
  'roster.tabPeople': 'People',
  'roster.sections': 'Sections',
  'roster.addClass': 'Add a class',
  'roster.addClassTitle': 'New class',
  'roster.className': 'Class name',
  'roster.classNameHint': 'A grade from 1 to 11 and a letter: “5А”, “10 Физмат”.',
  'roster.classNameBad': 'A class name is a grade from 1 to 11 and a letter or word, like “5А”.',
  'roster.classCreated': 'Class {name} added.',
  'roster.noClasses': 'No classes yet. Add the first class or import the school’s data.',
  'roster.grade': 'Grade {n}',
  'roster.gradeLabel': 'Grade {n}',
  'roster.classTeacher': 'Class teacher',
  'roster.noClassTeacher': 'No class teacher yet',
  'roster.summary': '{classes}, {students}',
  'roster.searchLabel': 'Search by last name, first name or login',
  'roster.searchPlaceholder': 'For example, Ivanova',
  'roster.roleLabel': 'Role',
  'roster.allRoles': 'All roles',
  'roster.noPeople': 'Nobody found. Check the spelling or pick another role.',
  'roster.found': 'Shown: {n}',
  'roster.addPerson': 'Add a person',
  'roster.addPersonTitle': 'New person',
  'roster.personCreated': 'Added: {name}.',
  'roster.hasPassword': 'Has a password',
  'roster.noPassword': 'No password',
  'roster.noLogin': 'No login',

  'class.students': 'Students',
  'class.parents': 'Parents',
  'class.noParents': 'No parents listed',
  'class.noStudents': 'There are no students in this class yet.',
  'class.subjects': 'Subjects and teachers',
  'class.noSubjects': 'No subjects have been set for this class yet.',
  'class.subject': 'Subject',
  'class.group': 'Group',
  'class.wholeClass': 'Whole class',
  'class.groupOf': '{group} · {students}',
  'class.groupN': 'Group {n}',
  'class.teachers': 'Teachers',
  'class.noTeacher': 'No teacher yet',
  'class.rename': 'Rename',
  'class.renameTitle': 'Rename the class',
  'class.renamed': 'Class renamed.',
  'class.teacherSelect': 'Class teacher',
  'class.teacherNone': '— none —',
  'class.teacherChange': 'Change the class teacher',
  'class.teacherSaved': 'Class teacher saved.',
  'class.issue': 'Issue passwords',
  'class.issueHint': 'For students and parents who have no password yet.',
  'class.issueTitle': 'Issue passwords to class {name}?',
  'class.issueText': 'Students and parents of this class who have no password yet will get temporary passwords. The passwords are shown only once — print the slip right away and hand it out.',
  'class.issueConfirm': 'Issue and show the slip',
  'class.move': 'Move',
  'class.moveTitle': 'Move to another class',
  'class.moveWho': 'Student: {name}',
  'class.moveTo': 'New class',
  'class.moveSubmit': 'Move',
  'class.moved': '{name} moved to {class}.',
  'class.year': 'School year {year}',
  'class.noLoginHint': 'Password: {state}',

  'person.roles': 'Roles',
  'person.login': 'Login',
  'person.password': 'Password',
  'person.classes': 'Classes',
  'person.noClasses': 'Not linked to any class.',
  'person.relStudent': 'Student of',
  'person.relClassTeacher': 'Class teacher of',
  'person.relTeacher': 'Teacher',
  'person.parents': 'Parents',
  'person.noParents': 'No parents listed.',
  'person.children': 'Children',
  'person.noChildren': 'No children listed.',
  'person.edit': 'Edit details',
  'person.editTitle': 'Personal details',
  'person.lastName': 'Last name',
  'person.firstName': 'First name',
  'person.middleName': 'Middle name (patronymic)',
  'person.loginField': 'Login',
  'person.loginHint': 'Latin letters, digits and . _ - @, at least 3 characters.',
  'person.loginBad': 'A login is 3–64 Latin letters, digits or . _ - @.',
  'person.rolesField': 'Roles in the organisation',
  'person.needRole': 'Pick at least one role.',
  'person.saved': 'Changes saved.',
  'person.addParent': 'Add a parent',
  'person.addChild': 'Add a child',
  'person.findParent': 'Find a parent by last name',
  'person.findChild': 'Find a student by last name',
  'person.findHint': 'Type at least 2 letters.',
  'person.nothingFound': 'Nobody found.',
  'person.removeLink': 'Remove the link: {name}',
  'person.removeTitle': 'Remove the link?',
  'person.removeText': '{guardian} will no longer be listed as a parent of {student}.',
  'person.linkAdded': 'Link added: {name}.',
  'person.linkRemoved': 'Link removed: {name}.',
  'person.move': 'Move to another class',

  'slip.title': 'Sign-in passwords — {name}',
  'slip.lead': 'Cut the sheet and give everyone their card. At the first sign-in the portal asks them to choose their own password.',
  'slip.empty': 'All students and parents of this class already have passwords. No new passwords were issued.',
  'slip.gone': 'Passwords are shown only once and are no longer kept. If the slip is lost, temporary passwords can be issued again only to those who have none.',
  'slip.issued': 'Passwords issued: {n}',
  'slip.portal': 'Parta school portal',
  'slip.address': 'Address',
  'slip.login': 'Login',
  'slip.password': 'Temporary password',
  'slip.firstLogin': 'Choose your own password at the first sign-in.',
  'slip.toClass': 'Back to the class',
  'slip.forStudent': 'student',
  'slip.forGuardian': 'parent',
};

// Plural forms: Russian has one/few/many, English one/other.
const plurals = {
  ru: {
    students: { one: '{n} ученик', few: '{n} ученика', many: '{n} учеников', other: '{n} ученика' },
    classes: { one: '{n} класс', few: '{n} класса', many: '{n} классов', other: '{n} класса' },
    people: { one: '{n} человек', few: '{n} человека', many: '{n} человек', other: '{n} человека' },
  },
  en: {
    students: { one: '{n} student', other: '{n} students' },
    classes: { one: '{n} class', other: '{n} classes' },
    people: { one: '{n} person', other: '{n} people' },
  },
};

const dictionaries = { ru, en };

function initialLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch {
    // Storage may be unavailable (private mode); Russian it is.
  }
  return 'ru';
}

let current = initialLang();
const listeners = new Set();

export function lang() {
  return current;
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered, still switched.
  }
  document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (m, k) => (params && k in params ? String(params[k]) : m));
}

export function t(key, params) {
  const s = dictionaries[current][key] ?? ru[key];
  if (s === undefined) {
    console.warn('missing string', key);
    return key;
  }
  return fill(s, params);
}

export function plural(key, n) {
  const forms = plurals[current][key];
  const rule = new Intl.PluralRules(current === 'ru' ? 'ru-RU' : 'en-GB').select(n);
  return fill(forms[rule] ?? forms.other, { n });
}

export function roleName(role) {
  return t(`roles.${role}`);
}

export function kindName(kind) {
  return t(`kinds.${kind}`);
}

/** An API error body's message in the current language. */
export function errorText(body) {
  if (!body) return t('error.unknown');
  if (current === 'en' && body.message_en) return body.message_en;
  return body.message || body.message_en || t('error.unknown');
}

export const ROLES = ['administrator', 'teacher', 'other_staff', 'student', 'guardian'];

document.documentElement.lang = current;
