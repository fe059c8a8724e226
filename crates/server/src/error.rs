//! The one place where failures become HTTP: every API error is JSON with a
//! stable snake_case `code` (clients switch on it) and a human message in
//! Russian (`message`) and English (`message_en`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster::{NameError, NamePart};
use std::borrow::Cow;
use std::ops::RangeInclusive;
use storage::{Conflict, StorageError};

pub use crate::wire::v1::ErrorBody;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub message_en: &'static str,
    pub retry_after: Option<u64>,
    pub remaining_attempts: Option<u32>,
    /// The request field the error is about (`limit`, `text`, `members[3]`).
    pub field: Option<Cow<'static, str>>,
    /// What exactly is wrong, in Russian and English, when the message
    /// alone cannot say (which two periods overlap).
    pub detail: Option<Box<(String, String)>>,
}

impl ApiError {
    /// Seconds to wait before trying again (also sent as `Retry-After`).
    pub fn retry_after(self, secs: u64) -> Self {
        ApiError { retry_after: Some(secs), ..self }
    }

    pub fn remaining(self, attempts: u32) -> Self {
        ApiError { remaining_attempts: Some(attempts), ..self }
    }

    pub fn field(self, name: impl Into<Cow<'static, str>>) -> Self {
        ApiError { field: Some(name.into()), ..self }
    }

    pub fn detail(self, russian: String, english: String) -> Self {
        ApiError { detail: Some(Box::new((russian, english))), ..self }
    }
}

const fn err(status: StatusCode, code: &'static str, message: &'static str, message_en: &'static str) -> ApiError {
    ApiError {
        status,
        code,
        message,
        message_en,
        retry_after: None,
        remaining_attempts: None,
        field: None,
        detail: None,
    }
}

pub const UNAUTHENTICATED: ApiError =
    err(StatusCode::UNAUTHORIZED, "unauthenticated", "Войдите в систему.", "Please sign in.");
pub const INVALID_CREDENTIALS: ApiError =
    err(StatusCode::UNAUTHORIZED, "invalid_credentials", "Неверный логин или пароль.", "Wrong login or password.");
pub const NO_PASSWORD_YET: ApiError = err(
    StatusCode::UNAUTHORIZED,
    "no_password_yet",
    "У этой учётной записи ещё нет пароля. Получите его у администратора школы.",
    "This account has no password yet. Ask the school administrator for one.",
);
pub const TOO_MANY_ATTEMPTS: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "too_many_attempts",
    "Слишком много попыток входа. Подождите несколько минут или войдите по коду из SMS.",
    "Too many sign-in attempts. Wait a few minutes, or sign in with a code by SMS.",
);
pub const FORBIDDEN: ApiError = err(
    StatusCode::FORBIDDEN,
    "forbidden",
    "Это действие доступно только администратору школы.",
    "Only a school administrator can do this.",
);
pub const NOT_FOUND: ApiError = err(StatusCode::NOT_FOUND, "not_found", "Не найдено.", "Not found.");
pub const WRONG_PASSWORD: ApiError = err(
    StatusCode::BAD_REQUEST,
    "wrong_current_password",
    "Текущий пароль введён неверно.",
    "The current password is wrong.",
);
pub const WEAK_PASSWORD: ApiError = err(
    StatusCode::BAD_REQUEST,
    "weak_password",
    "Пароль должен быть не короче 8 символов.",
    "A password must be at least 8 characters long.",
);
pub const INVALID_INPUT: ApiError = err(
    StatusCode::BAD_REQUEST,
    "invalid_input",
    "Запрос не распознан: проверьте поля формы.",
    "The request could not be understood: check the form fields.",
);

/// A number of a request that must lie in `range` (the bounds its schema
/// documents), or `default` when absent: refused, never clamped, naming the field.
pub fn bounded(field: &'static str, value: Option<i64>, default: i64, range: RangeInclusive<i64>) -> ApiResult<i64> {
    let value = value.unwrap_or(default);
    if range.contains(&value) { Ok(value) } else { Err(INVALID_INPUT.field(field)) }
}

/// A search string of at most `max` characters; blank is absent.
pub fn search_text(field: &'static str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) if v.chars().count() > max => Err(INVALID_INPUT.field(field)),
        v => Ok(v),
    }
}

pub const PHONE_EMPTY: ApiError =
    err(StatusCode::BAD_REQUEST, "phone_empty", "Введите номер телефона.", "Enter a phone number.");
pub const PHONE_MALFORMED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "phone_malformed",
    "Номер телефона введён неверно. Пример: +7 912 345-67-89.",
    "The phone number is not valid. Example: +7 912 345-67-89.",
);
pub const PHONE_NOT_MOBILE: ApiError = err(
    StatusCode::BAD_REQUEST,
    "phone_not_mobile",
    "Нужен номер мобильного телефона: на него придёт SMS с кодом.",
    "A mobile number is needed: the code comes by SMS.",
);
pub const CODE_COOLDOWN: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "code_cooldown",
    "Код уже отправлен. Новый можно запросить чуть позже.",
    "A code was just sent. You can ask for a new one a little later.",
);
pub const PHONE_HOURLY_LIMIT: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "phone_hourly_limit",
    "На этот номер отправлено слишком много кодов. Попробуйте через час.",
    "Too many codes were sent to this number. Try again in an hour.",
);
pub const IP_HOURLY_LIMIT: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "ip_hourly_limit",
    "Слишком много запросов кода из вашей сети. Попробуйте через час.",
    "Too many code requests from your network. Try again in an hour.",
);
pub const SMS_UNAVAILABLE: ApiError = err(
    StatusCode::SERVICE_UNAVAILABLE,
    "sms_unavailable",
    "Не удалось отправить SMS. Попробуйте позже.",
    "Could not send the SMS. Try again later.",
);
pub const SMS_REJECTED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "sms_rejected",
    "SMS на этот номер отправить нельзя. Проверьте номер.",
    "An SMS cannot be sent to this number. Check the number.",
);
pub const NO_CODE: ApiError =
    err(StatusCode::BAD_REQUEST, "no_code", "Сначала запросите код.", "Ask for a code first.");
pub const WRONG_CODE: ApiError = err(StatusCode::BAD_REQUEST, "wrong_code", "Неверный код.", "Wrong code.");
pub const CODE_MALFORMED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "code_malformed",
    "Код — это 6 цифр из SMS.",
    "The code is the 6 digits from the SMS.",
);
pub const CODE_BURNED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "code_burned",
    "Слишком много неверных попыток. Запросите новый код.",
    "Too many wrong attempts. Ask for a new code.",
);
pub const CODE_EXPIRED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "code_expired",
    "Срок действия кода истёк. Запросите новый код.",
    "The code has expired. Ask for a new one.",
);
pub const CODE_USED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "code_used",
    "Этот код уже использован. Запросите новый код.",
    "This code was already used. Ask for a new one.",
);
pub const WRONG_SIGN_IN_PASSWORD: ApiError =
    err(StatusCode::BAD_REQUEST, "wrong_password", "Неверный пароль.", "Wrong password.");
pub const NO_PASSWORD_SET: ApiError = err(
    StatusCode::BAD_REQUEST,
    "no_password_set",
    "У этого профиля нет пароля. Войдите по коду из SMS.",
    "This profile has no password. Sign in with an SMS code.",
);
pub const CHATS_UNAVAILABLE: ApiError = err(
    StatusCode::CONFLICT,
    "chats_unavailable",
    "В этой организации чаты недоступны.",
    "Chats are not available in this organisation.",
);
pub const NOT_LINKED: ApiError =
    err(StatusCode::NOT_FOUND, "not_linked", "Учебный профиль не привязан.", "No learning profile is linked.");
pub const CONSENT_REQUIRED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "consent_required",
    "Чтобы создать профиль ребёнка, подтвердите согласие законного представителя.",
    "To create a child's profile, confirm the consent of the legal representative.",
);
pub const CHILD_CODE_INVALID: ApiError = err(
    StatusCode::BAD_REQUEST,
    "child_code_invalid",
    "Код не подошёл: он неверный, уже использован или устарел. Попросите родителя показать новый код.",
    "The code did not work: it is wrong, used or expired. Ask your parent to show a new one.",
);
pub const CHILD_CODE_MALFORMED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "child_code_malformed",
    "Код — это 8 букв и цифр с экрана родителя, например ABCD-EFGH.",
    "The code is the 8 letters and digits from the parent's screen, e.g. ABCD-EFGH.",
);
pub const LOOKUPS_LIMITED: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "too_many_requests",
    "Слишком много запросов. Подождите минуту.",
    "Too many requests. Wait a minute.",
);
pub const TOO_MANY_CONNECTIONS: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "too_many_connections",
    "Слишком много одновременных соединений с вашего адреса. Закройте лишние вкладки и повторите.",
    "Too many connections from your address at once. Close extra tabs and try again.",
);
pub const RATE_LIMITED: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "rate_limited",
    "Слишком часто, подождите немного и повторите.",
    "Too often: please wait a moment and try again.",
);
pub const INTERNAL: ApiError = err(
    StatusCode::INTERNAL_SERVER_ERROR,
    "internal",
    "Внутренняя ошибка сервера. Попробуйте позже.",
    "Internal server error. Try again later.",
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (message, message_en) = match self.detail.map(|d| *d) {
            Some((russian, english)) => {
                (format!("{}: {russian}", self.message).into(), format!("{}: {english}", self.message_en).into())
            }
            None => (self.message.into(), self.message_en.into()),
        };
        let body = ErrorBody {
            code: self.code,
            message,
            message_en,
            retry_after: self.retry_after,
            remaining_attempts: self.remaining_attempts,
            field: self.field,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => NOT_FOUND,
            StorageError::Conflict(c) => conflict(c),
            StorageError::Refused(r) => r.into(),
            StorageError::DirectRefused(r) => r.into(),
            StorageError::ManageRefused(r) => r.into(),
            StorageError::SharingRefused(r) => r.into(),
            StorageError::ModerationRefused(r) => r.into(),
            StorageError::VoteRefused(r) => r.into(),
            StorageError::ConsentRefused(r) => r.into(),
            StorageError::RightsRefused(r) => r.into(),
            StorageError::ScheduleRefused(r) => r.into(),
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "database unavailable");
                DATABASE_UNAVAILABLE
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                INTERNAL
            }
        }
    }
}

fn conflict(c: Conflict) -> ApiError {
    let s = StatusCode::CONFLICT;
    match c {
        Conflict::LoginTaken => err(s, "login_taken", "Этот логин уже занят.", "This login is already taken."),
        Conflict::NotAStudent => err(
            s,
            "not_a_student",
            "Этот человек не ученик этой школы.",
            "This person is not a student of this school.",
        ),
        Conflict::NotAGuardian => err(
            s,
            "not_a_guardian",
            "Этот человек не родитель в этой школе.",
            "This person is not a parent in this school.",
        ),
        Conflict::NotATeacher => err(
            s,
            "not_a_teacher",
            "Этот человек не учитель этой школы.",
            "This person is not a teacher of this school.",
        ),
        Conflict::WholeClassSection => err(
            s,
            "whole_class_section",
            "Этот предмет изучает весь класс: в нём нет групп.",
            "The whole class takes this subject: it has no groups.",
        ),
        Conflict::ProofInvalid => err(
            StatusCode::BAD_REQUEST,
            "proof_invalid",
            "Подтверждение номера устарело. Начните заново.",
            "The phone confirmation has expired. Start again.",
        ),
        Conflict::SignInLinkInvalid => err(
            StatusCode::BAD_REQUEST,
            "sign_in_link_invalid",
            "Ссылка для входа устарела или уже использована. Откройте мессенджер из школьного портала ещё раз.",
            "The sign-in link has expired or was already used. Open the messenger from the school portal again.",
        ),
        Conflict::AlreadyLinked => err(
            s,
            "already_linked",
            "Учётная запись уже связана с учебным профилем.",
            "This school account is already linked to a learning profile.",
        ),
        Conflict::LinkedToAnotherProfile => err(
            s,
            "linked_to_another_profile",
            "Эта учётная запись уже связана с другим учебным профилем в другой школе.",
            "This school account is linked to another learning profile in another school.",
        ),
        Conflict::NoAccount => err(
            StatusCode::NOT_FOUND,
            "no_account",
            "Профиля с этим номером нет. Зарегистрируйтесь.",
            "No profile has this number. Register first.",
        ),
        Conflict::PhoneTaken => err(
            s,
            "phone_taken",
            "Этот номер уже используется другим профилем.",
            "Another profile already uses this number.",
        ),
        Conflict::PhoneInUse => err(
            s,
            "phone_in_use",
            "У этого номера уже есть Parta ID. Если это ваш, добавьте учётную запись в него; иначе укажите другой номер.",
            "This number already has a Parta ID. If it is yours, add this school account to it; otherwise use another number.",
        ),
        Conflict::ChildHasOwnParta => err(
            s,
            "child_has_own_parta_id",
            "У ребёнка уже есть свой Parta ID: он входит в мессенджер со своего телефона.",
            "The child already has a Parta ID of their own and signs in from their own phone.",
        ),
        Conflict::NoChatsForChild => err(
            s,
            "no_chats_for_child",
            "В школе ребёнка чаты недоступны, профиль ребёнка пока не нужен.",
            "Chats are not available in the child's school, so a child profile is not needed yet.",
        ),
        Conflict::NoSchoolAccount => err(
            StatusCode::NOT_FOUND,
            "no_school_account",
            "Этот номер не привязан к учётной записи школы. Войдите по логину и паролю из школы.",
            "This number is not linked to a school account. Sign in with the login and password from the school.",
        ),
        Conflict::SeveralSchoolAccounts => err(
            s,
            "several_school_accounts",
            "К этому номеру привязано несколько учётных записей школы. Войдите по логину и паролю той, что нужна.",
            "Several school accounts are linked to this number. Sign in with the login and password of the one you need.",
        ),
        Conflict::NotYourChild => err(
            s,
            "not_your_child",
            "Этот номер — Parta ID человека, который не значится в школе вашим ребёнком. Укажите другой номер.",
            "This number is the Parta ID of someone the school does not list as your child. Use another number.",
        ),
        Conflict::ReplyOutsideChat => err(
            StatusCode::BAD_REQUEST,
            "reply_outside_chat",
            "Сообщение, на которое вы отвечаете, не из этого чата.",
            "The message you are replying to is not in this chat.",
        ),
        Conflict::NotLinkedYet => err(
            s,
            "not_linked_yet",
            "Этот человек ещё не подключил учебный профиль. Напишите ему, когда он подключится.",
            "This person has not linked a learning profile yet. Write once they have.",
        ),
        Conflict::AttachmentUnavailable => err(
            StatusCode::BAD_REQUEST,
            "attachment_unavailable",
            "Вложение не найдено: загрузите файл в этот чат ещё раз.",
            "The attachment was not found: upload the file to this chat again.",
        ),
        Conflict::LastRole => {
            err(s, "no_roles", "У человека должна остаться хотя бы одна роль.", "A person must keep at least one role.")
        }
    }
}

impl From<NameError> for ApiError {
    fn from(e: NameError) -> Self {
        let s = StatusCode::BAD_REQUEST;
        match e {
            NameError::Empty => err(s, "empty_name", "Заполните обязательные поля.", "Fill in the required fields."),
            NameError::TooLong { .. } => err(s, "name_too_long", "Слишком длинное значение.", "The value is too long."),
            // The limit is roster's NAME_MAX, the same for every part.
            NameError::PartTooLong(NamePart::Last, _) => err(
                s,
                "last_name_too_long",
                "Фамилия — не длиннее 100 символов.",
                "A last name is at most 100 characters.",
            )
            .field("last_name"),
            NameError::PartTooLong(NamePart::First, _) => err(
                s,
                "first_name_too_long",
                "Имя — не длиннее 100 символов.",
                "A first name is at most 100 characters.",
            )
            .field("first_name"),
            NameError::PartTooLong(NamePart::Middle, _) => err(
                s,
                "middle_name_too_long",
                "Отчество — не длиннее 100 символов.",
                "A middle name is at most 100 characters.",
            )
            .field("middle_name"),
            NameError::ControlCharacters => err(
                s,
                "control_characters",
                "Значение содержит недопустимые символы.",
                "The value contains characters that are not allowed.",
            ),
            NameError::BadClassName => err(
                s,
                "bad_class_name",
                "Название класса — номер от 1 до 11 и буква или слово: «5А», «10 Физмат».",
                "A class name is a grade from 1 to 11 and a letter or word: «5А», «10 Физмат».",
            ),
            NameError::BadLogin => err(
                s,
                "bad_login",
                "Логин — от 3 до 64 букв, цифр или знаков . _ - @.",
                "A login is 3–64 letters, digits or . _ - @.",
            ),
            NameError::Markup(NamePart::Last, _) => err(
                s,
                "last_name_markup",
                "Фамилия не может содержать символы < > & \" ` = { } \\.",
                "A last name cannot contain the characters < > & \" ` = { } \\.",
            )
            .field("last_name"),
            NameError::Markup(NamePart::First, _) => err(
                s,
                "first_name_markup",
                "Имя не может содержать символы < > & \" ` = { } \\.",
                "A first name cannot contain the characters < > & \" ` = { } \\.",
            )
            .field("first_name"),
            NameError::Markup(NamePart::Middle, _) => err(
                s,
                "middle_name_markup",
                "Отчество не может содержать символы < > & \" ` = { } \\.",
                "A middle name cannot contain the characters < > & \" ` = { } \\.",
            )
            .field("middle_name"),
        }
    }
}

impl From<identity::family::SharingRefusal> for ApiError {
    fn from(r: identity::family::SharingRefusal) -> Self {
        use identity::family::SharingRefusal;
        let s = StatusCode::CONFLICT;
        match r {
            SharingRefusal::StudentIntoAdults => err(
                s,
                "student_needs_own_profile",
                "Этот номер — Parta ID взрослого. Ученику нужен свой профиль: родитель создаёт его в разделе «Дети» \
                 своего мессенджера, или укажите другой номер.",
                "This number is an adult's Parta ID. A student needs a profile of their own: a parent creates it under \
                 «Дети» (Children) in their messenger, or use another number.",
            ),
            SharingRefusal::AdultIntoStudents => err(
                s,
                "adult_needs_own_profile",
                "Этот номер — Parta ID ученика. Взрослому нужен свой профиль: укажите другой номер. Если ваш ребёнок \
                 пользовался вашим телефоном, выберите «Это профиль моего ребёнка».",
                "This number is a student's Parta ID. An adult needs a profile of their own: use another number. If your \
                 child has been using your phone, choose «It is my child's profile».",
            ),
            SharingRefusal::TwoStudents => err(
                s,
                "student_needs_own_profile",
                "Этот номер — Parta ID другого ученика. У каждого ребёнка свой профиль: родитель создаёт его в \
                 разделе «Дети», или укажите другой номер.",
                "This number is another student's Parta ID. Each child has a profile of their own: a parent creates it \
                 under «Дети» (Children), or use another number.",
            ),
        }
    }
}

impl From<messenger::Refusal> for ApiError {
    fn from(r: messenger::Refusal) -> Self {
        use messenger::Refusal;
        let s = StatusCode::FORBIDDEN;
        match r {
            Refusal::ChatReadOnly => err(
                s,
                "chat_read_only",
                "Это архив чата: его можно читать, но не писать в него.",
                "This chat is an archive: it can be read but not written to.",
            ),
            // Hidden chats are out of reach altogether: they do not exist for the member.
            Refusal::ChatHidden => NOT_FOUND,
            Refusal::AnnouncementOnly => err(
                s,
                "announcement_only",
                "Писать в этот чат могут только администраторы чата.",
                "Only the chat's admins can post in this chat.",
            ),
            Refusal::NotAuthor => err(
                s,
                "not_author",
                "Изменить сообщение может только его автор.",
                "Only the author can change this message.",
            ),
            Refusal::NotAdmin => {
                err(s, "not_chat_admin", "Это могут только администраторы чата.", "Only the chat's admins can do this.")
            }
            Refusal::AlreadyDeleted => err(
                StatusCode::CONFLICT,
                "already_deleted",
                "Сообщение уже удалено.",
                "The message is already deleted.",
            ),
            Refusal::CallRecord => {
                err(s, "call_record", "Запись о звонке нельзя изменить.", "A call's record cannot be edited.")
            }
            Refusal::Muted => err(
                s,
                "muted",
                "Модератор школы временно запретил вам писать в этот чат.",
                "A school moderator has muted you in this chat for a while.",
            ),
            Refusal::Blocked => err(
                s,
                "blocked",
                "Собеседник ограничил личные сообщения от вас.",
                "This person has blocked direct messages from you.",
            ),
            Refusal::NotDirect => err(
                StatusCode::CONFLICT,
                "not_direct",
                "Заблокировать можно только собеседника в личной переписке.",
                "Only the other person of a direct chat can be blocked.",
            ),
            Refusal::UrgentNotAdmin => err(
                s,
                "urgent_not_admin",
                "Отметить сообщение «Срочно» могут только администраторы чата.",
                "Only the chat's admins can mark a message urgent.",
            ),
        }
    }
}

// ---------------------------------------------------------------- data rights

impl From<identity::rights::RightsRefusal> for ApiError {
    fn from(r: identity::rights::RightsRefusal) -> Self {
        use identity::rights::RightsRefusal::*;
        match r {
            NotInSchool => err(
                StatusCode::NOT_FOUND,
                "not_in_school",
                "Этот человек не состоит и не состоял в вашей школе.",
                "This person is not and never was a member of your school.",
            ),
            StillEnrolled => err(
                StatusCode::CONFLICT,
                "still_enrolled",
                "Человек ещё учится или работает в школе: стереть можно данные только выбывшего.",
                "The person is still enrolled in the school: only a former member's data can be erased.",
            ),
            AlreadyErased => err(
                StatusCode::CONFLICT,
                "already_erased",
                "Данные этого человека уже стёрты.",
                "This person's data was already erased.",
            ),
        }
    }
}

pub const EXPORT_NOT_READY: ApiError = err(
    StatusCode::CONFLICT,
    "export_not_ready",
    "Архив ещё готовится или не получился. Проверьте его состояние.",
    "The archive is still being made, or failed. Check its status.",
);
pub const EXPORT_EXPIRED: ApiError = err(
    StatusCode::GONE,
    "export_expired",
    "Ссылка действовала 24 часа и истекла. Запросите архив заново.",
    "The link was valid for 24 hours and has expired. Ask for the archive again.",
);
pub const CONFIRMATION_REQUIRED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "confirmation_required",
    "Подтвердите стирание: его нельзя отменить.",
    "Confirm the erasure: it cannot be undone.",
);

// ---------------------------------------------------------------- safeguarding

impl From<messenger::ModerationRefusal> for ApiError {
    fn from(r: messenger::ModerationRefusal) -> Self {
        use messenger::ModerationRefusal::*;
        let c = StatusCode::CONFLICT;
        match r {
            NotModerator => err(
                StatusCode::FORBIDDEN,
                "not_moderator",
                "Это доступно администраторам школы и ответственным за безопасность.",
                "Only the school's administrators and safeguarding staff can do this.",
            ),
            NotStaff => err(
                c,
                "not_staff",
                "Ответственным за безопасность может быть только сотрудник школы.",
                "Only a member of staff can be responsible for safeguarding.",
            ),
            TooManyReports => err(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_reports",
                "Слишком много жалоб за час. Если ребёнку грозит опасность, позвоните в школу.",
                "Too many reports in an hour. If a child is in danger, call the school.",
            )
            .retry_after(3600),
            Closed => err(c, "report_closed", "По этой жалобе уже принято решение.", "This report is already decided."),
            DirectChat => err(
                c,
                "remove_from_direct",
                "Из личной переписки нельзя удалить: запретите автору писать.",
                "Nobody is removed from a direct chat: mute the author instead.",
            ),
            AdultsOnly => err(
                StatusCode::FORBIDDEN,
                "adults_only_direct",
                "Личную переписку взрослых можно открыть только по жалобе.",
                "A direct chat between adults can be opened only after a report.",
            ),
        }
    }
}

impl From<messenger::DmRefusal> for ApiError {
    fn from(r: messenger::DmRefusal) -> Self {
        match r {
            messenger::DmRefusal::SamePerson => err(
                StatusCode::BAD_REQUEST,
                "direct_self",
                "Нельзя написать личное сообщение самому себе.",
                "You cannot send a direct message to yourself.",
            ),
            messenger::DmRefusal::Forbidden { .. } | messenger::DmRefusal::NoParty => err(
                StatusCode::FORBIDDEN,
                "direct_forbidden",
                "Правила школы не разрешают начать личную переписку с этим человеком. Напишите в общем чате класса.",
                "The school's rules do not allow a direct conversation with this person. Write in the class chat.",
            ),
        }
    }
}

impl From<messenger::TextError> for ApiError {
    fn from(e: messenger::TextError) -> Self {
        let s = StatusCode::BAD_REQUEST;
        match e {
            messenger::TextError::Empty => err(s, "message_empty", "Сообщение пустое.", "The message is empty."),
            messenger::TextError::TooLong { .. } => err(
                s,
                "message_too_long",
                "Сообщение длиннее 10 000 символов. Разделите его на несколько.",
                "The message is longer than 10,000 characters. Split it into several.",
            ),
            messenger::TextError::ControlCharacter => err(
                s,
                "message_control_character",
                "Сообщение содержит недопустимые символы.",
                "The message contains characters that are not allowed.",
            ),
        }
    }
}

pub const INVALID_CLIENT_ID: ApiError = err(
    StatusCode::BAD_REQUEST,
    "invalid_client_id",
    "Неверный идентификатор сообщения клиента.",
    "The client's message id is not valid.",
);
pub const UNKNOWN_REACTION: ApiError =
    err(StatusCode::BAD_REQUEST, "unknown_reaction", "Такой реакции нет.", "There is no such reaction.");
pub const UNAVAILABLE: ApiError = err(
    StatusCode::SERVICE_UNAVAILABLE,
    "unavailable",
    "Сервер перегружен или перезапускается. Повторите попытку.",
    "The server is overloaded or restarting. Try again.",
);
pub const DATABASE_UNAVAILABLE: ApiError = err(
    StatusCode::SERVICE_UNAVAILABLE,
    "database_unavailable",
    "База данных недоступна. Ничего не потеряно: повторите через минуту.",
    "The database is unreachable. Nothing was lost: try again in a minute.",
);

pub const CALL_NOT_FOUND: ApiError =
    err(StatusCode::NOT_FOUND, "call_not_found", "Звонок уже завершён.", "The call has already ended.");
pub const CALL_FORBIDDEN: ApiError = err(
    StatusCode::FORBIDDEN,
    "call_forbidden",
    "Это доступно только участникам чата и его администраторам.",
    "Only the chat's members and its admins can do this.",
);
pub const CALL_ADMINS_START: ApiError = err(
    StatusCode::FORBIDDEN,
    "call_admins_start",
    "В этом чате звонок начинает администратор чата. Присоединиться можно, когда звонок начнётся.",
    "In this chat a call is started by a chat admin. You can join once it has started.",
);
pub const CALL_REMOVED: ApiError = err(
    StatusCode::FORBIDDEN,
    "call_removed",
    "Модератор удалил вас из этого звонка. Вернуться можно, когда он впустит вас снова.",
    "A moderator removed you from this call. You can rejoin once they let you back in.",
);
pub const CALL_MICS_LOCKED: ApiError = err(
    StatusCode::FORBIDDEN,
    "call_mics_locked",
    "Модератор выключил микрофоны. Включить микрофон можно, когда он разрешит или даст вам слово.",
    "A moderator switched the microphones off. You can turn yours on once they allow it or give you the floor.",
);
pub const CALL_INVALID_SDP: ApiError = err(
    StatusCode::BAD_REQUEST,
    "call_invalid_sdp",
    "Браузер прислал неверное описание соединения. Обновите страницу.",
    "The browser sent an invalid connection description. Reload the page.",
);
pub const CALL_UNAVAILABLE: ApiError = err(
    StatusCode::SERVICE_UNAVAILABLE,
    "call_unavailable",
    "Звонки на этом сервере выключены.",
    "Calls are switched off on this server.",
);

pub const QUIET_HOURS_INVALID: ApiError =
    err(StatusCode::BAD_REQUEST, "quiet_hours_invalid", "Тихие часы не сохранены", "Quiet hours not saved");
pub const PUSH_UNAVAILABLE: ApiError = err(
    StatusCode::SERVICE_UNAVAILABLE,
    "push_unavailable",
    "Уведомления на этом сервере выключены.",
    "Notifications are switched off on this server.",
);
pub const PUSH_ENDPOINT_NOT_HTTPS: ApiError = err(
    StatusCode::BAD_REQUEST,
    "push_endpoint_not_https",
    "Браузер предложил небезопасный адрес для уведомлений (нужен https).",
    "The browser offered an insecure address for notifications (https is required).",
);
pub const PUSH_ENDPOINT_NOT_ALLOWED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "push_endpoint_not_allowed",
    "Этот сервер не отправляет уведомления через службу вашего браузера. Обратитесь к администратору.",
    "This server does not send notifications through your browser's push service. Ask the administrator.",
);
pub const PUSH_SUBSCRIPTION_TAKEN: ApiError = err(
    StatusCode::CONFLICT,
    "push_subscription_taken",
    "Эта подписка на уведомления принадлежит другому пользователю.",
    "This notification subscription belongs to someone else.",
);
pub const PUSH_SUBSCRIPTION_NOT_FOUND: ApiError = err(
    StatusCode::NOT_FOUND,
    "push_subscription_not_found",
    "Уведомления на этом устройстве уже выключены.",
    "Notifications are already off on this device.",
);

pub const CHAT_NAME_EMPTY: ApiError =
    err(StatusCode::BAD_REQUEST, "chat_name_empty", "Введите название чата.", "Enter a name for the chat.");
pub const CHAT_NAME_TOO_LONG: ApiError = err(
    StatusCode::BAD_REQUEST,
    "chat_name_too_long",
    "Название чата — не длиннее 100 символов.",
    "A chat name is at most 100 characters long.",
);
pub const CHAT_NAME_INVALID: ApiError = err(
    StatusCode::BAD_REQUEST,
    "chat_name_invalid",
    "Название чата — одна строка без служебных символов.",
    "A chat name is one line without control characters.",
);
pub const CHAT_DESCRIPTION_TOO_LONG: ApiError = err(
    StatusCode::BAD_REQUEST,
    "chat_description_too_long",
    "Описание чата — не длиннее 500 символов.",
    "A chat description is at most 500 characters long.",
);
pub const CHAT_DESCRIPTION_INVALID: ApiError = err(
    StatusCode::BAD_REQUEST,
    "chat_description_invalid",
    "Описание содержит недопустимые символы.",
    "The description contains characters that are not allowed.",
);
pub const NO_PEOPLE: ApiError =
    err(StatusCode::BAD_REQUEST, "no_people", "Выберите, кого добавить.", "Choose whom to add.");
pub const TOO_MANY_PEOPLE: ApiError = err(
    StatusCode::BAD_REQUEST,
    "too_many_people",
    "За один раз можно добавить не больше 2000 человек.",
    "At most 2,000 people can be added at once.",
);

impl From<messenger::ManageRefusal> for ApiError {
    fn from(r: messenger::ManageRefusal) -> Self {
        use messenger::ManageRefusal::*;
        let (f, c) = (StatusCode::FORBIDDEN, StatusCode::CONFLICT);
        match r {
            NotStaff => err(
                f,
                "manage_staff_only",
                "Управлять чатами могут только сотрудники школы.",
                "Only school staff can manage chats.",
            ),
            NotAdministrator => FORBIDDEN,
            ChatsUnavailable => CHATS_UNAVAILABLE,
            NotChatAdmin => err(
                f,
                "not_chat_manager",
                "Этим чатом управляют администраторы школы и администраторы чата.",
                "This chat is managed by the school's administrators and the chat's admins.",
            ),
            NotInOrganisation => err(
                c,
                "person_not_in_org",
                "Этого человека нет в вашей школе: добавлять можно только своих учеников, родителей и сотрудников.",
                "This person is not in your school: only your school's students, parents and staff can be added.",
            ),
            OutsideYourClasses => err(
                f,
                "person_out_of_reach",
                "Вы можете добавлять сотрудников школы, а также учеников и родителей своих классов и предметов.",
                "You can add school staff, and the students and parents of the classes and subjects you teach.",
            ),
            AlreadyMember => err(
                c,
                "already_member",
                "Этот человек уже в чате. Ничего не добавлено.",
                "This person is already in the chat. Nobody was added.",
            ),
            NotAMember => err(c, "not_a_member", "Этого человека нет в чате.", "This person is not in the chat."),
            AutomaticChat => err(
                c,
                "automatic_chat",
                "Автоматический чат удалить нельзя: его можно переименовать или архивировать.",
                "An automatic chat cannot be deleted: it can be renamed or archived.",
            ),
            LastAdmin => err(
                c,
                "last_admin",
                "В чате должен остаться хотя бы один администратор. Сначала назначьте другого.",
                "A chat must keep at least one admin. Appoint another one first.",
            ),
            Deleted => err(
                c,
                "chat_deleted",
                "Чат удалён. Чтобы изменить его, сначала восстановите.",
                "The chat is deleted. Restore it to change it.",
            ),
            NotDeleted => err(c, "chat_not_deleted", "Чат не удалён.", "The chat is not deleted."),
            Purged => err(
                StatusCode::GONE,
                "chat_purged",
                "Чат удалён окончательно: его нельзя изменить или восстановить.",
                "The chat was deleted for good: it cannot be changed or restored.",
            ),
            Changed => err(
                c,
                "chat_changed",
                "Пока вы редактировали, чат изменил кто-то другой. Обновите страницу и повторите.",
                "Someone else changed the chat while you were editing. Reload the page and try again.",
            ),
        }
    }
}

pub const FILE_EMPTY: ApiError = err(StatusCode::BAD_REQUEST, "file_empty", "Файл пустой.", "The file is empty.");
pub const FILE_TOO_LARGE: ApiError = err(
    StatusCode::PAYLOAD_TOO_LARGE,
    "file_too_large",
    "Файл больше, чем разрешено в вашей школе (обычно 100 МБ).",
    "The file is larger than your school allows (usually 100 MB).",
);
pub const IMAGE_TOO_LARGE: ApiError = err(
    StatusCode::UNPROCESSABLE_ENTITY,
    "image_too_large",
    "Изображение слишком большое: больше 64 мегапикселей. Уменьшите его или отправьте архивом.",
    "The image is too large: over 64 megapixels. Shrink it or send it as an archive.",
);
pub const IMAGE_MALFORMED: ApiError = err(
    StatusCode::UNPROCESSABLE_ENTITY,
    "image_malformed",
    "Изображение повреждено, его нельзя отправить.",
    "The image is damaged and cannot be sent.",
);
pub const PHOTO_FORMAT_UNSUPPORTED: ApiError = err(
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    "photo_format_unsupported",
    "Из фото в этом формате (TIFF, RAW, JPEG XL) нельзя удалить геометку. Отправьте его в JPEG или HEIC.",
    "The location cannot be removed from a photo in this format (TIFF, RAW, JPEG XL). Send it as JPEG or HEIC.",
);
pub const VIDEO_FORMAT_UNSUPPORTED: ApiError = err(
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    "video_format_unsupported",
    "Из видео в этом формате (AVI, WMV, FLV, MPEG) нельзя удалить геометку. Сохраните его в MP4 и отправьте снова.",
    "The location cannot be removed from a video in this format (AVI, WMV, FLV, MPEG). Save it as MP4 and send it again.",
);
pub const VIDEO_MALFORMED: ApiError = err(
    StatusCode::UNPROCESSABLE_ENTITY,
    "video_malformed",
    "Видео повреждено или устроено так, что из него нельзя надёжно удалить геометку. Его нельзя отправить.",
    "The video is damaged or built so that its location cannot be removed safely. It cannot be sent.",
);
pub const UPLOAD_INTERRUPTED: ApiError = err(
    StatusCode::BAD_REQUEST,
    "upload_interrupted",
    "Загрузка прервалась. Попробуйте ещё раз.",
    "The upload was interrupted. Try again.",
);
pub const FILE_FORBIDDEN: ApiError = err(
    StatusCode::FORBIDDEN,
    "file_forbidden",
    "Этот файл доступен только участникам чата.",
    "This file is only available to the chat's members.",
);
pub const TOO_MANY_ATTACHMENTS: ApiError = err(
    StatusCode::BAD_REQUEST,
    "too_many_attachments",
    "К одному сообщению можно приложить не больше 10 файлов.",
    "A message can carry at most 10 files.",
);
pub const SEARCH_NO_WORDS: ApiError =
    err(StatusCode::BAD_REQUEST, "search_no_words", "Введите слово для поиска.", "Enter a word to search for.");
pub const SEARCH_TOO_LONG: ApiError = err(
    StatusCode::BAD_REQUEST,
    "search_too_long",
    "Запрос слишком длинный: не больше 500 символов.",
    "The query is too long: 500 characters at most.",
);

// Read receipts, polls and consent forms (issue 20).
pub const REMINDED_RECENTLY: ApiError = err(
    StatusCode::CONFLICT,
    "reminded_recently",
    "Напоминание об этом сообщении уже отправлено: следующее можно через 12 часов после него.",
    "A reminder about this message was already sent: the next one can go 12 hours after it.",
);

impl From<messenger::polls::PollError> for ApiError {
    fn from(e: messenger::polls::PollError) -> Self {
        use messenger::polls::PollError::*;
        let s = StatusCode::BAD_REQUEST;
        match e {
            QuestionEmpty => err(s, "poll_question_empty", "Напишите вопрос.", "Write a question.").field("question"),
            QuestionInvalid => err(
                s,
                "poll_question_invalid",
                "Вопрос — не длиннее 500 символов, без управляющих символов.",
                "A question is at most 500 characters, without control characters.",
            )
            .field("question"),
            OptionCount => {
                err(s, "poll_option_count", "В опросе от 2 до 10 вариантов ответа.", "A poll has 2 to 10 options.")
                    .field("options")
            }
            OptionEmpty(i) => err(s, "poll_option_empty", "Вариант ответа пустой.", "An option is empty.")
                .field(format!("options[{i}]")),
            OptionInvalid(i) => err(
                s,
                "poll_option_invalid",
                "Вариант ответа — не длиннее 200 символов, без управляющих символов.",
                "An option is at most 200 characters, without control characters.",
            )
            .field(format!("options[{i}]")),
            ClosesInPast => err(
                s,
                "poll_closes_in_past",
                "Время закрытия опроса уже прошло.",
                "The poll's closing time has passed.",
            )
            .field("closes_at"),
        }
    }
}

impl From<messenger::polls::VoteRefusal> for ApiError {
    fn from(r: messenger::polls::VoteRefusal) -> Self {
        use messenger::polls::VoteRefusal::*;
        match r {
            Closed => err(StatusCode::CONFLICT, "poll_closed", "Опрос закрыт.", "The poll is closed."),
            Empty => err(StatusCode::BAD_REQUEST, "vote_empty", "Выберите вариант ответа.", "Choose an option.")
                .field("options"),
            OneOnly => err(
                StatusCode::BAD_REQUEST,
                "vote_one_only",
                "В этом опросе можно выбрать только один вариант.",
                "This poll takes one answer only.",
            )
            .field("options"),
            OutOfRange => err(
                StatusCode::BAD_REQUEST,
                "vote_unknown_option",
                "Такого варианта ответа нет.",
                "There is no such option.",
            )
            .field("options"),
            NotAuthor => err(
                StatusCode::FORBIDDEN,
                "not_poll_author",
                "Закрыть опрос может только его автор.",
                "Only the poll's author can close it.",
            ),
        }
    }
}

pub const CONSENT_REMINDED_RECENTLY: ApiError = err(
    StatusCode::CONFLICT,
    "reminded_recently",
    "Напоминание об этой форме уже отправлено: следующее можно через 12 часов после него.",
    "A reminder about this form was already sent: the next one can go 12 hours after it.",
);

impl From<messenger::consent::ConsentError> for ApiError {
    fn from(e: messenger::consent::ConsentError) -> Self {
        use messenger::consent::ConsentError::*;
        let s = StatusCode::BAD_REQUEST;
        match e {
            TitleEmpty => {
                err(s, "consent_title_empty", "Напишите заголовок формы.", "Write the form's title.").field("title")
            }
            TitleInvalid => err(
                s,
                "consent_title_invalid",
                "Заголовок — одна строка не длиннее 200 символов.",
                "A title is one line of at most 200 characters.",
            )
            .field("title"),
            TextEmpty => {
                err(s, "consent_text_empty", "Напишите, на что просите согласие.", "Write what the consent is for.")
                    .field("text")
            }
            TextInvalid => err(
                s,
                "consent_text_invalid",
                "Текст — не длиннее 10 000 символов, без управляющих символов.",
                "The text is at most 10,000 characters, without control characters.",
            )
            .field("text"),
            OptionCount => {
                err(s, "consent_option_count", "В форме от 2 до 10 вариантов ответа.", "A form has 2 to 10 options.")
                    .field("options")
            }
            OptionEmpty(i) => err(s, "consent_option_empty", "Вариант ответа пустой.", "An option is empty.")
                .field(format!("options[{i}]")),
            OptionInvalid(i) => err(
                s,
                "consent_option_invalid",
                "Вариант ответа — одна строка не длиннее 200 символов.",
                "An option is one line of at most 200 characters.",
            )
            .field(format!("options[{i}]")),
            DeadlineInPast => err(
                s,
                "consent_deadline_in_past",
                "Срок ответа уже прошёл: укажите время в будущем.",
                "The deadline has passed: choose a time in the future.",
            )
            .field("deadline"),
        }
    }
}

impl From<messenger::consent::ConsentRefusal> for ApiError {
    fn from(r: messenger::consent::ConsentRefusal) -> Self {
        use messenger::consent::ConsentRefusal::*;
        let s = StatusCode::BAD_REQUEST;
        match r {
            NotParentsChat => err(
                StatusCode::CONFLICT,
                "consent_not_parents_chat",
                "Форму согласия можно создать только в родительском чате класса.",
                "A consent form can only be made in a class's parents' chat.",
            ),
            NotAdmin => err(
                StatusCode::FORBIDDEN,
                "not_chat_admin",
                "Это могут только администраторы чата.",
                "Only the chat's admins can do this.",
            ),
            Closed => err(
                StatusCode::CONFLICT,
                "consent_closed",
                "Срок ответа прошёл: форма закрыта. Её может открыть снова классный руководитель.",
                "The deadline has passed: the form is closed. The class teacher can reopen it.",
            ),
            NotYourChild => err(
                StatusCode::FORBIDDEN,
                "consent_not_your_child",
                "Отвечать можно только за своих детей из этого класса.",
                "You can only answer for your own children in this class.",
            )
            .field("student"),
            OutOfRange => err(s, "consent_unknown_option", "Такого варианта ответа нет.", "There is no such option.")
                .field("option"),
            CommentRequired => {
                err(s, "consent_comment_required", "Для этой формы нужен комментарий.", "This form needs a comment.")
                    .field("comment")
            }
            CommentInvalid => err(
                s,
                "consent_comment_invalid",
                "Комментарий — не длиннее 1000 символов, без управляющих символов.",
                "A comment is at most 1,000 characters, without control characters.",
            )
            .field("comment"),
            DeadlineInPast => err(
                s,
                "consent_deadline_in_past",
                "Срок ответа уже прошёл: укажите время в будущем.",
                "The deadline has passed: choose a time in the future.",
            )
            .field("deadline"),
        }
    }
}

// ---------------------------------------------------------------- scheduled messages

impl From<messenger::scheduled::ScheduleRefusal> for ApiError {
    fn from(r: messenger::scheduled::ScheduleRefusal) -> Self {
        use messenger::scheduled::ScheduleRefusal::*;
        match r {
            InPast => err(
                StatusCode::BAD_REQUEST,
                "scheduled_in_past",
                "Это время уже прошло: выберите время в будущем.",
                "That time has passed: choose a time in the future.",
            )
            .field("send_at"),
            TooFar => err(
                StatusCode::BAD_REQUEST,
                "scheduled_too_far",
                "Отправку можно запланировать не больше чем на год вперёд.",
                "A message can be scheduled at most a year ahead.",
            )
            .field("send_at"),
            TooMany => err(
                StatusCode::CONFLICT,
                "too_many_scheduled",
                "У вас уже 100 запланированных сообщений. Дождитесь их отправки или отмените ненужные.",
                "You already have 100 scheduled messages. Wait until they are sent, or cancel some.",
            ),
            NotPending => err(
                StatusCode::CONFLICT,
                "scheduled_not_pending",
                "Это сообщение уже отправлено, отменено или не удалось его отправить: изменить его нельзя.",
                "This message was already sent, cancelled or could not be sent: it cannot be changed.",
            ),
        }
    }
}

/// Why a scheduled message's author could not send it when its time came
/// (`failure` of the message): they are no longer in the chat, or it is gone.
pub const NOT_IN_CHAT: ApiError = err(
    StatusCode::NOT_FOUND,
    "not_in_chat",
    "Вы больше не участник этого чата, или чат удалён.",
    "You are no longer a member of this chat, or the chat was deleted.",
);

pub type ApiResult<T> = Result<T, ApiError>;

pub const BODY_TOO_LARGE: ApiError =
    err(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "Запрос слишком большой.", "The request is too large.");

/// Malformed bodies, paths and query strings get the same JSON error shape as
/// everything else, naming the field to blame when one is; the detail goes to
/// the log, not to the client.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        tracing::debug!(rejection = %r, "invalid request body");
        // Over the body limit (axum's default, 2 MB): the buffering failed.
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return BODY_TOO_LARGE;
        }
        invalid_input(blamed_field::<serde_json::Error>(&r))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        tracing::debug!(rejection = %r, "invalid query string");
        invalid_input(blamed_field::<serde_urlencoded::de::Error>(&r))
    }
}

/// A path parameter that does not parse, named: axum names it only when the
/// path has several, so the names come from the matched route.
fn path_rejection(r: &axum::extract::rejection::PathRejection, names: &[&str]) -> ApiError {
    use axum::extract::path::ErrorKind;
    tracing::debug!(rejection = %r, "invalid path");
    let field = match r {
        axum::extract::rejection::PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey { key, .. }
            | ErrorKind::InvalidUtf8InPathParam { key }
            | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
            ErrorKind::ParseErrorAtIndex { index, .. } => names.get(*index).map(|n| n.to_string()),
            ErrorKind::ParseError { .. } if names.len() == 1 => Some(names[0].to_string()),
            _ => None,
        },
        _ => None,
    };
    invalid_input(field)
}

fn invalid_input(field: Option<String>) -> ApiError {
    match field {
        Some(field) => INVALID_INPUT.field(field),
        None => INVALID_INPUT,
    }
}

/// The field axum's deserialiser stopped at: the path `serde_path_to_error`
/// recorded (`members[3]`), or, at the top level, the field a message names
/// (``missing field `text` ``).
fn blamed_field<E: std::error::Error + 'static>(rejection: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(rejection);
    while let Some(e) = source {
        if let Some(e) = e.downcast_ref::<serde_path_to_error::Error<E>>() {
            let path = e.path().to_string();
            if path != "." && !path.contains('?') {
                return Some(path);
            }
            let message = e.inner().to_string();
            return message.split('`').nth(1).filter(|_| message.contains(" field `")).map(str::to_string);
        }
        source = e.source();
    }
    None
}

/// `Json`, `Path` and `Query` whose rejections are [`ApiError`]s.
pub mod extract {
    use super::ApiError;
    use axum::extract::FromRequest;
    use axum::extract::FromRequestParts;

    #[derive(FromRequest)]
    #[from_request(via(axum::Json), rejection(ApiError))]
    pub struct Json<T>(pub T);

    pub struct Path<T>(pub T);

    impl<T, S> FromRequestParts<S> for Path<T>
    where
        T: serde::de::DeserializeOwned + Send,
        S: Send + Sync,
    {
        type Rejection = ApiError;

        async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
            match axum::extract::Path::<T>::from_request_parts(parts, state).await {
                Ok(axum::extract::Path(value)) => Ok(Path(value)),
                Err(rejection) => {
                    let raw = axum::extract::RawPathParams::from_request_parts(parts, state).await.ok();
                    let names: Vec<&str> = raw.iter().flat_map(|raw| raw.iter().map(|(name, _)| name)).collect();
                    Err(super::path_rejection(&rejection, &names))
                }
            }
        }
    }

    #[derive(FromRequestParts)]
    #[from_request(via(axum::extract::Query), rejection(ApiError))]
    pub struct Query<T>(pub T);
}
