//! The OpenAPI document, generated from the handlers' annotations at start-up;
//! nothing is downloaded at build time.
//!
//! The document is the API's contract (schemathesis checks the server against
//! it: `tests/contract`). Each handler documents what only it answers (403,
//! 409, …); [`Failures`] adds what every route answers the same way, from
//! what its annotation already says: 401 where it names a session, 400 where
//! it takes parameters or a body, 413 where it takes a JSON body, 404 where
//! its path names a row (which may not exist, or not be the caller's to see),
//! and 403 under `/api/orgs/{org}` (where each route needs a role in that
//! organisation).

use crate::{chat_admin_api, error, identity_api};
use axum::Json;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Object, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type};

#[derive(OpenApi)]
#[openapi(
    info(title = "Parta", description = "School roster, learning profiles and chats. Errors are `ErrorBody` JSON with a stable `code`."),
    components(schemas(error::ErrorBody, crate::DemoAccount)),
    tags((name = "session", description = "Signing in to the school portal"),
         (name = "roster", description = "The school roster, for administrators"),
         (name = "identity", description = "Proving a phone: SMS codes and passwords"),
         (name = "chats", description = "The \"Чаты\" window: linking a learning profile"),
         (name = "family", description = "«Дети»: child profiles a guardian makes and manages (never the child's chats)"),
         (name = "chat management", description = "\"Управление чатами\": school staff manage chats, members and admins; the audit log"),
         (name = "safeguarding", description = "Reports of messages and the school's moderation of them"),
         (name = "messenger", description = "Messenger sign-in, Parta ID settings, chats and messages. Live events: the WebSocket /api/ws, see docs/protocol.md")),
)]
struct ApiDoc;

/// The document's title, tags and shared schemas; the paths come with the
/// routes (`crate::documented_api`).
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The whole document, made once: the routes' entries with the failures every
/// route answers alike.
pub fn document_value() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, mut document) = crate::documented_api().split_for_parts();
        utoipa::Modify::modify(&Failures, &mut document);
        document
    })
}

pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document_value())
}

/// The sessions a route may name in `security(...)`: the portal's cookie and the messenger's.
const SESSIONS: [(&str, &str); 2] =
    [("portal_session", crate::auth::SESSION_COOKIE), ("messenger_session", identity_api::MESSENGER_COOKIE)];

/// Adds the failures every route answers alike, and the session cookies.
struct Failures;

impl utoipa::Modify for Failures {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (scheme, cookie) in SESSIONS {
            components.add_security_scheme(scheme, SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(cookie))));
        }
        for (path, item) in &mut openapi.paths.paths {
            let names_a_row = path.contains('{');
            let in_an_org = path.starts_with("/api/orgs/{org}");
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten();
            for operation in operations {
                let has_input =
                    operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) || operation.request_body.is_some();
                let json_body =
                    operation.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
                let signed_in = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses.entry(status.to_string()).or_insert_with(|| error_response(description));
                };
                if has_input {
                    add("400", "The request is malformed or out of bounds (`invalid_input`, naming the `field`)");
                }
                if signed_in {
                    add("401", "No valid session cookie (`unauthenticated`)");
                }
                if json_body {
                    add("413", "The body is over 2 MB (`body_too_large`)");
                }
                if names_a_row {
                    add("404", "No such row, or not one the caller may see (`not_found`)");
                }
                if in_an_org {
                    add("403", "The caller lacks the role this needs in the organisation");
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    ResponseBuilder::new().description(description).content("application/json", content).build().into()
}

/// A string that is one of `values`: the schemas of the names the domain
/// parses, made from the domain's own lists so that they cannot drift.
fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}

pub(crate) fn role() -> Object {
    one_of(roster::Role::ALL.map(roster::Role::as_str))
}

pub(crate) fn roles() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::Array::new(role())
}

pub(crate) fn party() -> Object {
    one_of(messenger::Party::ALL.map(messenger::Party::as_str))
}

pub(crate) fn dm_rule() -> Object {
    one_of(messenger::DmRule::ALL.map(messenger::DmRule::as_str))
}

pub(crate) fn report_reason() -> Object {
    one_of(messenger::ReportReason::ALL.map(messenger::ReportReason::as_str))
}

pub(crate) fn reaction() -> Object {
    one_of(messenger::Reaction::ALLOWED)
}

pub(crate) fn chat_kind() -> Object {
    one_of(chat_admin_api::KINDS)
}

pub(crate) fn chat_state() -> Object {
    one_of(storage::StateFilter::ALL.map(storage::StateFilter::as_str))
}

/// Text a person wrote (`messenger::MessageText`): not blank, at most 10,000
/// characters, no control characters but line breaks and tabs. The pattern
/// allows no carriage return, though the server takes `\r\n` as a line break.
pub(crate) fn message_text() -> Object {
    written(messenger::MessageText::MAX_CHARS, r"[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*")
}

/// Not blank, at most `max` characters of `text` (a pattern of allowed runs).
fn written(max: usize, text: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(r"^{text}[^\s\u0000-\u001F\u007F-\u009F]{text}$")))
        .build()
}

/// A poll's question: a message's text, at most 500 characters.
pub(crate) fn poll_question() -> Object {
    written(messenger::polls::MAX_QUESTION_CHARS, r"[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*")
}

/// A consent form's title: one line, not blank, at most 200 characters.
pub(crate) fn consent_title() -> Object {
    written(messenger::consent::MAX_TITLE_CHARS, r"[^\u0000-\u001F\u007F-\u009F]*")
}

/// A consent form's options: none (the default pair), or 2–10 lines.
pub(crate) fn consent_options() -> utoipa::openapi::schema::Array {
    use messenger::consent::{MAX_OPTION_CHARS, MAX_OPTIONS};
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(written(MAX_OPTION_CHARS, r"[^\u0000-\u001F\u007F-\u009F]*"))
        .max_items(Some(MAX_OPTIONS))
        .build()
}

/// A poll's 2–10 options: each not blank, one line of at most 200 characters.
pub(crate) fn poll_options() -> utoipa::openapi::schema::Array {
    use messenger::polls::{MAX_OPTION_CHARS, MAX_OPTIONS, MIN_OPTIONS};
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(written(MAX_OPTION_CHARS, r"[^\u0000-\u001F\u007F-\u009F]*"))
        .min_items(Some(MIN_OPTIONS))
        .max_items(Some(MAX_OPTIONS))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_the_failures_every_route_shares() {
        let doc = document_value();
        for (path, item) in &doc.paths.paths {
            for operation in [&item.get, &item.put, &item.post, &item.delete, &item.patch].into_iter().flatten() {
                let statuses: Vec<&str> = operation.responses.responses.keys().map(String::as_str).collect();
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                assert!(!secured || statuses.contains(&"401"), "{path}: 401 where a session is needed");
                if operation.request_body.is_some() {
                    assert!(statuses.contains(&"400") && statuses.contains(&"413"), "{path}: {statuses:?}");
                }
            }
        }
    }
}
