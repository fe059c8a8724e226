//! The one place where failures become HTTP: every API error is JSON with a
//! stable snake_case `code` (clients switch on it) and a human message in
//! Russian (`message`) and English (`message_en`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster::NameError;
use serde::Serialize;
use storage::{Conflict, StorageError};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub message_en: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: &'static str,
    /// Russian.
    pub message: &'static str,
    pub message_en: &'static str,
}

const fn err(status: StatusCode, code: &'static str, message: &'static str, message_en: &'static str) -> ApiError {
    ApiError {
        status,
        code,
        message,
        message_en,
    }
}

pub const UNAUTHENTICATED: ApiError = err(
    StatusCode::UNAUTHORIZED,
    "unauthenticated",
    "Войдите в систему.",
    "Please sign in.",
);
pub const INVALID_CREDENTIALS: ApiError = err(
    StatusCode::UNAUTHORIZED,
    "invalid_credentials",
    "Неверный логин или пароль.",
    "Wrong login or password.",
);
pub const NO_PASSWORD_YET: ApiError = err(
    StatusCode::UNAUTHORIZED,
    "no_password_yet",
    "У этой учётной записи ещё нет пароля. Получите его у администратора школы.",
    "This account has no password yet. Ask the school administrator for one.",
);
pub const TOO_MANY_ATTEMPTS: ApiError = err(
    StatusCode::TOO_MANY_REQUESTS,
    "too_many_attempts",
    "Слишком много попыток входа. Подождите несколько минут.",
    "Too many sign-in attempts. Wait a few minutes.",
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
pub const INTERNAL: ApiError = err(
    StatusCode::INTERNAL_SERVER_ERROR,
    "internal",
    "Внутренняя ошибка сервера. Попробуйте позже.",
    "Internal server error. Try again later.",
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            message_en: self.message_en,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => NOT_FOUND,
            StorageError::Conflict(c) => conflict(c),
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
        Conflict::LoginTaken => err(
            s,
            "login_taken",
            "Этот логин уже занят.",
            "This login is already taken.",
        ),
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
        Conflict::LastRole => err(
            s,
            "no_roles",
            "У человека должна остаться хотя бы одна роль.",
            "A person must keep at least one role.",
        ),
    }
}

impl From<NameError> for ApiError {
    fn from(e: NameError) -> Self {
        let s = StatusCode::BAD_REQUEST;
        match e {
            NameError::Empty => err(
                s,
                "empty_name",
                "Заполните обязательные поля.",
                "Fill in the required fields.",
            ),
            NameError::TooLong { .. } => err(
                s,
                "name_too_long",
                "Слишком длинное значение.",
                "The value is too long.",
            ),
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
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Malformed bodies, paths and query strings get the same JSON error shape as
/// everything else; the detail goes to the log, not to the client.
macro_rules! rejection_is_invalid_input {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(r: $t) -> Self {
                tracing::debug!(rejection = %r, "invalid request");
                INVALID_INPUT
            }
        }
    )*};
}

rejection_is_invalid_input!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::QueryRejection
);

/// `Json`, `Path` and `Query` whose rejections are [`ApiError`]s.
pub mod extract {
    use super::ApiError;
    use axum::extract::FromRequest;
    use axum::extract::FromRequestParts;

    #[derive(FromRequest)]
    #[from_request(via(axum::Json), rejection(ApiError))]
    pub struct Json<T>(pub T);

    #[derive(FromRequestParts)]
    #[from_request(via(axum::extract::Path), rejection(ApiError))]
    pub struct Path<T>(pub T);

    #[derive(FromRequestParts)]
    #[from_request(via(axum::extract::Query), rejection(ApiError))]
    pub struct Query<T>(pub T);
}
