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

use crate::{auth, chat_admin_api, error, family_api, identity_api, messenger::api as messenger_api, roster_api};
use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Object, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type};

#[derive(OpenApi)]
#[openapi(
    info(title = "Parta", description = "School roster, learning profiles and chats. Errors are `ErrorBody` JSON with a stable `code`."),
    paths(
        auth::login, auth::login_by_phone, auth::logout, auth::me, auth::change_password,
        roster_api::org, roster_api::set_chats_module, roster_api::classes, roster_api::class,
        roster_api::create_class, roster_api::edit_class, roster_api::password_slip, roster_api::people,
        roster_api::person, roster_api::create_person, roster_api::edit_person, roster_api::move_student,
        roster_api::add_guardianship, roster_api::remove_guardianship, roster_api::subjects,
        roster_api::create_subject, roster_api::rename_subject, roster_api::create_section, roster_api::close_section,
        roster_api::add_section_member, roster_api::remove_section_member,
        identity_api::phone_status, identity_api::send_code, identity_api::prove_phone,
        identity_api::chats_window, identity_api::link, identity_api::unlink, identity_api::messenger_token,
        identity_api::messenger_sign_in, identity_api::register, identity_api::messenger_sign_out,
        identity_api::messenger_me, identity_api::sessions, identity_api::revoke_session,
        identity_api::set_password, identity_api::change_phone, identity_api::delete_account, identity_api::rename,
        family_api::consent, family_api::children, family_api::create_profile, family_api::delete_profile,
        family_api::sign_in_code, family_api::set_login, family_api::move_to_phone, family_api::sessions,
        family_api::end_session, family_api::shared_parta_ids,
        messenger_api::chats, messenger_api::chat, messenger_api::update_chat, messenger_api::history, messenger_api::pins,
        messenger_api::members, messenger_api::send, messenger_api::edit, messenger_api::delete,
        messenger_api::react, messenger_api::unreact, messenger_api::pin, messenger_api::unpin,
        messenger_api::read, messenger_api::direct, messenger_api::dm_policy, messenger_api::set_dm_policy,
        crate::messenger::files::upload, crate::messenger::files::download, crate::messenger::files::thumbnail,
        crate::messenger::files::chat_files, crate::messenger::search::search,
        crate::messenger::receipts::counts, crate::messenger::receipts::report, crate::messenger::receipts::remind,
        crate::messenger::polls::create, crate::messenger::polls::vote, crate::messenger::polls::close,
        crate::messenger::polls::csv,
        chat_admin_api::options, chat_admin_api::list, chat_admin_api::detail, chat_admin_api::create,
        chat_admin_api::edit, chat_admin_api::archive, chat_admin_api::unarchive, chat_admin_api::delete,
        chat_admin_api::restore, chat_admin_api::add_members, chat_admin_api::remove_member,
        chat_admin_api::appoint_admin, chat_admin_api::revoke_admin, chat_admin_api::candidates,
        chat_admin_api::audit, chat_admin_api::audit_csv,
    ),
    components(schemas(error::ErrorBody, crate::DemoAccount)),
    modifiers(&Failures),
    tags((name = "session", description = "Signing in to the school portal"),
         (name = "roster", description = "The school roster, for administrators"),
         (name = "identity", description = "Proving a phone: SMS codes and passwords"),
         (name = "chats", description = "The \"Чаты\" window: linking a learning profile"),
         (name = "family", description = "«Дети»: child profiles a guardian makes and manages (never the child's chats)"),
         (name = "chat management", description = "\"Управление чатами\": school staff manage chats, members and admins; the audit log"),
         (name = "messenger", description = "Messenger sign-in, Parta ID settings, chats and messages. Live events: the WebSocket /api/ws, see docs/protocol.md")),
)]
struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
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
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

    /// Routes served but not in the document, and why.
    const UNDOCUMENTED: [(&str, &str); 5] = [
        ("GET", "/api/ws"),                // the WebSocket: docs/protocol.md
        ("GET", "/api/openapi.json"),      // the document itself
        ("GET", "/api/dev/demo-accounts"), // `parta demo` only
        ("GET", "/api/dev/sms-outbox"),    // `parta demo` only
        ("GET", "/healthz"),               // for load balancers, plain text
    ];

    /// `(METHOD, path)` of every `.route(…)` in `router()`: the router keeps no
    /// list of its own, so its source is read.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("lib.rs");
        let router = &source[source.find("pub fn router(").unwrap_or_default()..];
        let router = &router[..router.find("\n}\n").unwrap_or(router.len())];
        let mut routes = BTreeSet::new();
        for call in router.split(".route(").skip(1) {
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let call = &call[..end];
            let path = call.split('"').nth(1).unwrap_or_default();
            let path = if path == "/healthz" { path.to_string() } else { format!("/api{path}") };
            for method in METHODS {
                let named = call
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'));
                if named {
                    routes.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        routes
    }

    fn documented() -> BTreeSet<(String, String)> {
        let doc = ApiDoc::openapi();
        let mut operations = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let present = [&item.get, &item.put, &item.post, &item.delete, &item.patch].map(Option::is_some);
            for (method, present) in METHODS.into_iter().zip(present) {
                if present {
                    operations.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }

    #[test]
    fn every_route_the_router_serves_is_in_the_document_and_nothing_else() {
        let routed = routed();
        assert!(routed.len() > 70, "the router's source was read: {routed:?}");
        let undocumented: BTreeSet<_> = UNDOCUMENTED.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        let served: BTreeSet<_> = routed.difference(&undocumented).cloned().collect();
        let documented = documented();
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(missing.is_empty(), "served but not documented: {missing:?}");
        assert!(extra.is_empty(), "documented but not served: {extra:?}");
        assert!(undocumented.is_subset(&routed), "an exception names a route that is gone");
    }

    #[test]
    fn every_operation_documents_the_failures_every_route_shares() {
        let doc = ApiDoc::openapi();
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
