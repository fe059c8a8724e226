//! School-portal sign-in: Argon2id passwords, session cookies whose tokens are
//! stored only as SHA-256 hashes, and wrong passwords limited per login and
//! per network address (`guard`).

use crate::AppState;
use crate::connections::ClientAddr;
use crate::error::{
    ApiError, ApiResult, FORBIDDEN, INVALID_CREDENTIALS, NO_PASSWORD_YET, UNAUTHENTICATED, WEAK_PASSWORD,
    WRONG_PASSWORD,
    extract::{Json, Path},
};
use crate::guard::PasswordGuard;
use crate::identity_api::MESSENGER_COOKIE;
use crate::wire::v1::{self, ChangePassword, LoginRequest, Me, PhoneSignIn, SignedOut};
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::RngCore;
use roster::Role;
use roster::ids::{OrgId, PersonId};
use serde::Deserialize;
use std::time::Duration;

pub const SESSION_COOKIE: &str = "parta_session";
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Hashes a password with Argon2id and a fresh salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    identity::password::hash(password, &mut rand::thread_rng())
}

/// Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
pub(crate) async fn verify_blocking(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || identity::password::verify(&password, &phc)).await.unwrap_or(false)
}

pub async fn hash_blocking(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|_| crate::error::INTERNAL)
}

/// A new random one-time password for a printed slip: easy to type for a
/// child, drawn from letters and digits that cannot be confused (no 0/O, 1/l).
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}

/// The signed-in person, resolved from the session cookie on every request.
pub struct CurrentUser {
    pub person_id: PersonId,
    pub token_hash: String,
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(SESSION_COOKIE).ok_or(UNAUTHENTICATED)?.value();
        let token_hash = identity::token::hash(token);
        let person_id = state.store.session_person(&token_hash, state.now()).await?.ok_or(UNAUTHENTICATED)?;
        Ok(CurrentUser { person_id, token_hash })
    }
}

/// A signed-in administrator of the organisation the path names (`{org}`):
/// taking one as an argument is what makes a handler administrators-only.
pub struct OrgAdmin {
    pub person_id: PersonId,
}

#[derive(Deserialize)]
struct OrgInPath {
    org: OrgId,
}

impl FromRequestParts<AppState> for OrgAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let Path(OrgInPath { org }) = Path::from_request_parts(parts, state).await?;
        let roles = state.store.person_roles(user.person_id).await?;
        if roles.iter().any(|r| r.org_id == org && r.role == Role::Administrator.as_str()) {
            Ok(OrgAdmin { person_id: user.person_id })
        } else {
            Err(FORBIDDEN)
        }
    }
}

pub async fn me_of(state: &AppState, person_id: PersonId) -> ApiResult<Me> {
    Ok(Me {
        person: state.store.person(person_id).await?.into(),
        roles: v1::list(state.store.person_roles(person_id).await?),
    })
}

fn session_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    let mut cookie = Cookie::new(SESSION_COOKIE, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(state.secure_cookies);
    cookie.set_max_age(time_duration(max_age));
    cookie
}

fn time_duration(d: Duration) -> time::Duration {
    time::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Sign in to the school portal.
#[utoipa::path(post, path = "/api/session", request_body = LoginRequest, tag = "session",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> Response {
    match try_login(&state, client, req).await {
        Ok((token, me)) => (jar.add(session_cookie(&state, token, SESSION_LIFETIME)), axum::Json(me)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn try_login(state: &AppState, client: std::net::IpAddr, req: LoginRequest) -> ApiResult<(String, Me)> {
    let login = req.login.trim().to_lowercase();
    let guard = PasswordGuard::new(state, "portal", &login, client);
    guard.check().await?;
    let credentials = state.store.credentials(&login).await?.filter(|c| c.active);
    let Some(credentials) = credentials else {
        guard.failed().await?;
        return Err(INVALID_CREDENTIALS);
    };
    let Some(hash) = credentials.password_hash else {
        return Err(NO_PASSWORD_YET);
    };
    if !verify_blocking(req.password, hash).await {
        if guard.failed().await?
            && let Some(phone) = state.store.account_of_person(credentials.person_id).await?.and_then(|a| a.phone)
        {
            crate::guard::warn_owner(state, &phone).await;
        }
        return Err(INVALID_CREDENTIALS);
    }
    guard.succeeded().await?;
    let token = identity::token::new_token(&mut rand::thread_rng());
    let issued = state.now();
    let expires = issued + i64::try_from(SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    state.store.create_session(&identity::token::hash(&token), credentials.person_id, issued, expires).await?;
    tracing::info!(person = i64::from(credentials.person_id), "signed in to the portal");
    Ok((token, me_of(state, credentials.person_id).await?))
}

/// Sign in to the school portal with an SMS code instead of the password:
/// the school account linked to the proven phone's Parta ID. A password
/// lockout does not close this way.
#[utoipa::path(post, path = "/api/session/by-phone", request_body = PhoneSignIn, tag = "session",
    responses((status = 200, body = Me), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn login_by_phone(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(req): Json<PhoneSignIn>,
) -> ApiResult<Response> {
    let token = identity::token::new_token(&mut rand::thread_rng());
    let now = state.now();
    let expires = now + i64::try_from(SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    let person = state
        .store
        .portal_session_from_proof(&identity::token::hash(&req.proof), &identity::token::hash(&token), now, expires)
        .await?;
    tracing::info!(person = i64::from(person), "signed in to the portal by an SMS code");
    let me = me_of(&state, person).await?;
    Ok((jar.add(session_cookie(&state, token, SESSION_LIFETIME)), axum::Json(me)).into_response())
}

/// Sign out: the session is deleted on the server, not only forgotten by the
/// browser. The messenger on the same device is signed out too: on a shared
/// school computer the next person must not find it open.
#[utoipa::path(delete, path = "/api/session", tag = "session", responses((status = 200, body = SignedOut)))]
pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> ApiResult<Response> {
    let jar = end_portal_session(&state, jar).await?;
    let messenger = match jar.get(MESSENGER_COOKIE) {
        Some(cookie) => state.store.messenger_session(&identity::token::hash(cookie.value()), state.now()).await?,
        None => None,
    };
    if let Some((session, account)) = messenger {
        state.store.revoke_messenger_session(account, session).await?;
        // Its open socket closes now.
        state.messenger.accounts_changed(vec![account]);
    }
    let jar = jar.add(crate::identity_api::expired_messenger_cookie(&state));
    Ok((jar, axum::Json(SignedOut { messenger_signed_out: messenger.is_some() })).into_response())
}

/// Ends this browser's portal session, if it has one, and expires its cookie.
pub(crate) async fn end_portal_session(state: &AppState, jar: CookieJar) -> ApiResult<CookieJar> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&identity::token::hash(cookie.value())).await?;
    }
    Ok(jar.add(session_cookie(state, String::new(), Duration::ZERO)))
}

/// The signed-in person with their roles in every organisation.
#[utoipa::path(get, path = "/api/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(me_of(&state, user.person_id).await?))
}

/// Change one's own password (required after signing in with a one-time password).
#[utoipa::path(post, path = "/api/me/password", request_body = ChangePassword, tag = "session",
    responses((status = 204), (status = 400, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ChangePassword>,
) -> ApiResult<StatusCode> {
    if req.new.chars().count() < 8 {
        return Err(WEAK_PASSWORD);
    }
    let person = state.store.person(user.person_id).await?;
    let login = person.login.ok_or(WRONG_PASSWORD)?;
    let hash = state.store.credentials(&login).await?.and_then(|c| c.password_hash).ok_or(WRONG_PASSWORD)?;
    if !verify_blocking(req.current, hash).await {
        return Err(WRONG_PASSWORD);
    }
    state.store.set_password(user.person_id, &hash_blocking(req.new).await?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_avoid_confusable_characters() {
        let p = one_time_password();
        assert_eq!(p.len(), 10);
        assert!(!p.contains(['0', 'o', '1', 'l']), "{p}");
    }
}
