//! «Дети»: a guardian's children and their child profiles (DESIGN §2), over
//! HTTP — for the messenger's settings and the portal's «Чаты» window alike.
//!
//! A guardian makes a child's own Parta ID (no phone), with the consent of
//! the legal representative recorded; signs the child in on a device by a
//! one-time code (or QR) or a login and password they set; sees and ends the
//! child's sessions; moves the profile onto the child's phone later; or
//! unlinks it. A guardian never reads the child's chats: nothing here returns
//! a message. Every route answers 404 for a child who is not the caller's.

use crate::AppState;
use crate::auth::OrgAdmin;
use crate::auth::{CurrentUser, hash_blocking};
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiError, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{
    Child, ChildLogin, ChildPhone, ChildSignInCode, ConsentWording, NewChildProfile, SessionItem, SharedParta,
};
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use identity::{family, password, token};
use roster::Login;
use roster::ids::{OrgId, PersonId};
use storage::NewConsent;

/// The guardian's Parta ID: from a messenger session, or from a portal
/// session whose school account is linked.
pub struct Guardian {
    pub account_id: i64,
}

impl<S> FromRequestParts<S> for Guardian
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(user) = MessengerUser::from_request_parts(parts, state).await {
            return Ok(Guardian { account_id: user.account_id });
        }
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let state = AppState::from_ref(state);
        let account = state.store.account_of_person(user.person_id).await?.ok_or(e::NOT_LINKED)?;
        Ok(Guardian { account_id: account.id })
    }
}

async fn child_of(state: &AppState, guardian: &Guardian, child: i64) -> ApiResult<Child> {
    let children = state.store.children_of(guardian.account_id, state.now()).await?;
    children.into_iter().find(|c| c.person_id == child).map(Child::from).ok_or(e::NOT_FOUND)
}

/// The children of the signed-in guardian, each with their profile's state.
#[utoipa::path(get, path = "/api/family/children", tag = "family",
    responses((status = 200, body = Vec<Child>), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn children(State(state): State<AppState>, guardian: Guardian) -> ApiResult<axum::Json<Vec<Child>>> {
    let children = state.store.children_of(guardian.account_id, state.now()).await?;
    Ok(axum::Json(children.into_iter().map(Child::from).collect()))
}

/// The consent a guardian gives when making a child's profile.
#[utoipa::path(get, path = "/api/family/consent", tag = "family", responses((status = 200, body = ConsentWording)))]
pub async fn consent() -> axum::Json<ConsentWording> {
    axum::Json(ConsentWording { version: family::CHILD_CONSENT_VERSION, text: family::CHILD_CONSENT_TEXT })
}

/// «Создать профиль ребёнка»: the child's own Parta ID, linked in every school
/// of theirs with chats. A child who has one (made by the other guardian)
/// gets it back, unchanged.
#[utoipa::path(post, path = "/api/family/children/{child}/profile", tag = "family", params(("child" = i64, Path)),
    request_body = NewChildProfile,
    responses((status = 200, body = Child), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn create_profile(
    State(state): State<AppState>,
    guardian: Guardian,
    Path(child): Path<i64>,
    Json(form): Json<NewChildProfile>,
) -> ApiResult<axum::Json<Child>> {
    if !form.consent {
        return Err(e::CONSENT_REQUIRED);
    }
    let consent = NewConsent { version: family::CHILD_CONSENT_VERSION, wording: family::CHILD_CONSENT_TEXT };
    let created = state.store.create_child_profile(guardian.account_id, child, &consent, state.now()).await?;
    if created.created {
        tracing::info!(child, account = created.account_id, "child profile created");
    }
    for org in &created.orgs {
        state.reconcile_people(OrgId(*org), &[PersonId(child)]).await;
    }
    // A child moved off a shared Parta ID leaves its open messengers now.
    state.messenger.accounts_changed(created.left.into_iter().collect());
    Ok(axum::Json(child_of(&state, &guardian, child).await?))
}

/// Unlink the child profile and erase it: the child leaves every chat and
/// every device; the messages stay, signed with the school account.
#[utoipa::path(delete, path = "/api/family/children/{child}/profile", tag = "family", params(("child" = i64, Path)),
    responses((status = 200, body = Child), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn delete_profile(
    State(state): State<AppState>,
    guardian: Guardian,
    Path(child): Path<i64>,
) -> ApiResult<axum::Json<Child>> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    let links = state.store.child_links(account).await?;
    state.store.delete_child_profile(account, state.now()).await?;
    state.messenger.accounts_changed(vec![account]);
    for (org, person) in links {
        state.reconcile_people(OrgId(org), &[PersonId(person)]).await;
    }
    tracing::info!(child, account, "child profile deleted by a guardian");
    Ok(axum::Json(child_of(&state, &guardian, child).await?))
}

/// Where the QR code sends the child's device: this server as the guardian's
/// browser reached it.
fn sign_in_url(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}/messenger#child-code={code}")
}

fn qr_svg(text: &str) -> ApiResult<String> {
    let qr = qrcode::QrCode::new(text.as_bytes()).map_err(|_| e::INTERNAL)?;
    Ok(qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// A one-time code (and its QR) that signs the child in on a device; valid
/// ten minutes, once.
#[utoipa::path(post, path = "/api/family/children/{child}/sign-in-codes", tag = "family", params(("child" = i64, Path)),
    responses((status = 200, body = ChildSignInCode), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn sign_in_code(
    State(state): State<AppState>,
    guardian: Guardian,
    headers: HeaderMap,
    Path(child): Path<i64>,
) -> ApiResult<axum::Json<ChildSignInCode>> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    let code = family::child_code(&mut rand::thread_rng());
    let expires_at = state.now() + family::CHILD_CODE_TTL_SECS;
    state.store.create_child_code(&token::hash(&code), account, guardian.account_id, expires_at).await?;
    let url = sign_in_url(&state, &headers, &code);
    Ok(axum::Json(ChildSignInCode { code: family::display_child_code(&code), expires_at, qr_svg: qr_svg(&url)?, url }))
}

/// Set (or reset) the login and password the child signs in with.
#[utoipa::path(put, path = "/api/family/children/{child}/login", tag = "family", params(("child" = i64, Path)),
    request_body = ChildLogin,
    responses((status = 200, body = Child), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn set_login(
    State(state): State<AppState>,
    guardian: Guardian,
    Path(child): Path<i64>,
    Json(form): Json<ChildLogin>,
) -> ApiResult<axum::Json<Child>> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    let login = Login::parse(&form.login)?;
    password::check_strength(&form.password).map_err(|_| e::WEAK_PASSWORD)?;
    let hash = hash_blocking(form.password).await?;
    state.store.set_child_login(account, login.as_str(), &hash).await?;
    Ok(axum::Json(child_of(&state, &guardian, child).await?))
}

/// Move the child profile onto the child's own phone (a number with no
/// Parta ID yet): chats and history stay.
#[utoipa::path(put, path = "/api/family/children/{child}/phone", tag = "family", params(("child" = i64, Path)),
    request_body = ChildPhone,
    responses((status = 200, body = Child), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn move_to_phone(
    State(state): State<AppState>,
    guardian: Guardian,
    Path(child): Path<i64>,
    Json(form): Json<ChildPhone>,
) -> ApiResult<axum::Json<Child>> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    state.store.change_account_phone(account, &token::hash(&form.proof), state.now()).await?;
    Ok(axum::Json(child_of(&state, &guardian, child).await?))
}

/// The devices the child is signed in on (never what they wrote).
#[utoipa::path(get, path = "/api/family/children/{child}/sessions", tag = "family", params(("child" = i64, Path)),
    responses((status = 200, body = Vec<SessionItem>), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn sessions(
    State(state): State<AppState>,
    guardian: Guardian,
    Path(child): Path<i64>,
) -> ApiResult<axum::Json<Vec<SessionItem>>> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    let list = state.store.messenger_sessions(account, state.now()).await?;
    Ok(axum::Json(list.into_iter().map(|session| SessionItem { current: false, session: session.into() }).collect()))
}

/// Sign the child out on one device.
#[utoipa::path(delete, path = "/api/family/children/{child}/sessions/{session}", tag = "family",
    params(("child" = i64, Path), ("session" = i64, Path)),
    responses((status = 204), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = []), ("portal_session" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    guardian: Guardian,
    Path((child, session)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let account = state.store.managed_child(guardian.account_id, child).await?;
    state.store.revoke_messenger_session(account, session).await?;
    state.messenger.accounts_changed(vec![account]);
    Ok(StatusCode::NO_CONTENT)
}

/// Parta IDs of this school that mix a student with other people (for
/// administrators): who should get a child profile or a number of their own.
#[utoipa::path(get, path = "/api/orgs/{org}/shared-parta-ids", tag = "roster", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<SharedParta>), (status = 401, body = e::ErrorBody), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn shared_parta_ids(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<Vec<SharedParta>>> {
    let mixed = state.store.mixed_parta_ids().await?;
    let here = mixed.into_iter().filter(|m| m.holders.iter().any(|h| h.org_id == org));
    Ok(axum::Json(here.map(SharedParta::from).collect()))
}
