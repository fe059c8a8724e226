//! The OpenAPI document, generated from the handlers' annotations at start-up;
//! nothing is downloaded at build time.

use crate::{auth, chat_admin_api, error, family_api, identity_api, messenger::api as messenger_api, roster_api};
use axum::Json;
use utoipa::OpenApi;

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
        chat_admin_api::options, chat_admin_api::list, chat_admin_api::detail, chat_admin_api::create,
        chat_admin_api::edit, chat_admin_api::archive, chat_admin_api::unarchive, chat_admin_api::delete,
        chat_admin_api::restore, chat_admin_api::add_members, chat_admin_api::remove_member,
        chat_admin_api::appoint_admin, chat_admin_api::revoke_admin, chat_admin_api::candidates,
        chat_admin_api::audit, chat_admin_api::audit_csv,
    ),
    components(schemas(error::ErrorBody, crate::DemoAccount)),
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
