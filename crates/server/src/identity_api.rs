//! Parta ID over HTTP: proving a phone (SMS code or password), the "Чаты"
//! window of the school portal (link, unlink, "Перейти в мессенджер"), and
//! messenger sessions with their account settings.
//!
//! A proven phone is a short-lived, single-use *proof* token; linking,
//! registering, signing in by phone and changing the phone each consume one,
//! so a code is checked in exactly one place.

use crate::AppState;
use crate::auth::{CurrentUser, hash_blocking, verify_blocking};
use crate::connections::ClientAddr;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiError, ApiResult};
use crate::guard::{self, PasswordGuard};
use crate::wire::v1::{
    self, AboutMe, ChatsWindow, CodeSent, LinkForm, LinkedProfile, MessengerEntry, MessengerMe, MessengerSignIn,
    NewPassword, PhoneChange, PhoneForm, PhoneStatus, Proof, ProofForm, Registration, SessionItem,
};
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use identity::code::{self, Verdict};
use identity::limits::{self, SendHistory, SendRefusal};
use identity::{Phone, PhoneError, family, password, token};
use roster::ids::{OrgId, PersonId};
use roster::{ChatsUnavailable, OrgKind, PersonName, Role, chats_availability};
use serde::Deserialize;
use std::time::Duration;
use storage::{LinkAs, NewLink, StorageError};

pub const MESSENGER_COOKIE: &str = "parta_messenger";
const MESSENGER_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
const PROOF_LIFETIME: Duration = Duration::from_secs(15 * 60);
const SIGN_IN_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn phone(raw: &str) -> ApiResult<Phone> {
    Phone::parse(raw).map_err(|err| match err {
        PhoneError::Empty => e::PHONE_EMPTY,
        PhoneError::Malformed => e::PHONE_MALFORMED,
        PhoneError::NotMobile => e::PHONE_NOT_MOBILE,
    })
}

// ---------------------------------------------------------------- proving a phone

/// Normalise a phone number. The answer is the same whether or not a Parta ID
/// uses the number: that is told only once a code has proven the phone.
/// Limited per network address.
#[utoipa::path(post, path = "/api/identity/phone", tag = "identity", request_body = PhoneForm,
    responses((status = 200, body = PhoneStatus), (status = 400, body = e::ErrorBody), (status = 429, body = e::ErrorBody)))]
pub async fn phone_status(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(form): Json<PhoneForm>,
) -> ApiResult<axum::Json<PhoneStatus>> {
    guard::phone_lookup(&state, client).await?;
    let phone = phone(&form.phone)?;
    Ok(axum::Json(PhoneStatus { phone: phone.as_e164().to_string(), display: phone.display() }))
}

/// Send a 6-digit code by SMS. Limited: one per minute and a few per hour per
/// phone, and per network address.
#[utoipa::path(post, path = "/api/identity/codes", tag = "identity", request_body = PhoneForm,
    responses((status = 200, body = CodeSent), (status = 429, body = e::ErrorBody), (status = 503, body = e::ErrorBody)))]
pub async fn send_code(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(form): Json<PhoneForm>,
) -> ApiResult<axum::Json<CodeSent>> {
    let phone = phone(&form.phone)?;
    let ip = client.to_string();
    let now = state.now();
    let history = state.store.send_history(phone.as_e164(), &ip, now).await?;
    // A code that can no longer be used (its tries spent, or used) is no
    // reason to wait: the person needs a new one now.
    let latest = state.store.latest_code(phone.as_e164()).await?;
    let spent = latest
        .is_some_and(|c| matches!(code::closed(&stored_code(&c), now), Some(Verdict::Burned | Verdict::AlreadyUsed)));
    let history = SendHistory {
        last_sent_to_phone: history.last_sent_to_phone.filter(|_| !spent),
        sends_to_phone_last_hour: u32::try_from(history.sends_to_phone_last_hour).unwrap_or(u32::MAX),
        sends_from_ip_last_hour: u32::try_from(history.sends_from_ip_last_hour).unwrap_or(u32::MAX),
    };
    limits::may_send(&history, now).map_err(|refusal| match refusal {
        SendRefusal::CoolDown { retry_after_secs } => e::CODE_COOLDOWN.retry_after(retry_after_secs),
        SendRefusal::PhoneHourly => e::PHONE_HOURLY_LIMIT,
        SendRefusal::IpHourly => e::IP_HOURLY_LIMIT,
    })?;
    let (plain, issued) = {
        let mut rng = rand::thread_rng();
        let plain = code::generate(&mut rng);
        let issued = code::issue(&plain, &phone, now, &mut rng);
        (plain, issued)
    };
    let text = format!("Parta: код {plain}. Никому его не сообщайте.");
    if let Err(err) = state.sms.send(phone.as_e164(), &text).await {
        tracing::warn!(error = %err, "SMS provider failed");
        let (reason, error) = match err {
            sms::SmsError::Rejected(_) => ("rejected", e::SMS_REJECTED),
            sms::SmsError::Unavailable(_) => ("unavailable", e::SMS_UNAVAILABLE),
        };
        metrics::counter!(crate::metrics::SMS_FAILED, "reason" => reason).increment(1);
        return Err(error);
    }
    metrics::counter!(crate::metrics::SMS_SENT).increment(1);
    // Recorded only once sent: a provider failure does not eat the person's allowance.
    state.store.record_code(phone.as_e164(), &ip, &issued.salt, &issued.hash, now, issued.expires_at).await?;
    Ok(axum::Json(CodeSent {
        display: phone.display(),
        expires_in: code::CODE_TTL.as_secs(),
        resend_after: code::RESEND_COOLDOWN.as_secs(),
    }))
}

impl AboutMe {
    fn parse(&self) -> ApiResult<PersonName> {
        Ok(PersonName::parse(&self.last_name, &self.first_name, self.middle_name.as_deref())?)
    }
}

/// «Ева М.»: enough for the holder to recognise their Parta ID, too little
/// for anyone to learn who owns a number.
fn masked_name(last: &str, first: &str) -> String {
    match last.chars().next() {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_string(),
    }
}

/// A hash to verify against when there is no password, so a wrong password
/// and a missing one take the same time.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| crate::auth::hash_password(&token::new_token(&mut rand::thread_rng()))).clone()
}

/// Prove a phone with the SMS code or the account password. A wrong password
/// and a phone without one (or without a Parta ID) get the same answer.
#[utoipa::path(post, path = "/api/identity/proofs", tag = "identity", request_body = ProofForm,
    responses((status = 200, body = Proof), (status = 400, body = e::ErrorBody), (status = 429, body = e::ErrorBody)))]
pub async fn prove_phone(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(form): Json<ProofForm>,
) -> ApiResult<axum::Json<Proof>> {
    let phone = phone(&form.phone)?;
    let now = state.now();
    let account = state.store.account_by_phone(phone.as_e164()).await?;
    match (&form.code, &form.password) {
        (Some(input), _) => check_code(&state, &phone, input, now).await?,
        (None, Some(pw)) => {
            let guard = PasswordGuard::new(&state, "phone", phone.as_e164(), client);
            guard.check().await?;
            let hash = account.as_ref().and_then(|a| a.password_hash.clone());
            let right = verify_blocking(pw.clone(), hash.clone().unwrap_or_else(dummy_hash)).await && hash.is_some();
            if !right {
                if guard.failed().await? && account.is_some() {
                    guard::warn_owner(&state, phone.as_e164()).await;
                }
                return Err(e::WRONG_SIGN_IN_PASSWORD);
            }
            guard.succeeded().await?;
        }
        (None, None) => return Err(e::INVALID_INPUT),
    }
    let proof = token::new_token(&mut rand::thread_rng());
    state.store.create_proof(&token::hash(&proof), phone.as_e164(), now + secs(PROOF_LIFETIME)).await?;
    let has_profile = match &account {
        Some(a) => state.store.profile_of(a.id).await?.is_some(),
        None => false,
    };
    let holder = state.store.name_of_phone(phone.as_e164()).await?.map(|(last, first)| masked_name(&last, &first));
    Ok(axum::Json(Proof { proof, account_exists: account.is_some(), has_profile, holder }))
}

fn stored_code(row: &storage::StoredCodeRow) -> code::StoredCode {
    code::StoredCode {
        hash: row.hash.clone(),
        salt: row.salt.clone(),
        expires_at: row.expires_at,
        tries: u32::try_from(row.tries).unwrap_or(u32::MAX),
        used: row.used,
    }
}

fn verdict_error(verdict: Verdict) -> ApiError {
    match verdict {
        Verdict::Valid => e::INTERNAL,
        Verdict::Wrong { remaining } => e::WRONG_CODE.remaining(remaining),
        Verdict::Burned => e::CODE_BURNED,
        Verdict::Expired => e::CODE_EXPIRED,
        Verdict::AlreadyUsed => e::CODE_USED,
        Verdict::Malformed => e::CODE_MALFORMED,
    }
}

/// A try is counted before the code is compared, in the database's own
/// conditional update (`try_code`): a hundred guesses sent at once still get
/// five comparisons between them.
async fn check_code(state: &AppState, phone: &Phone, input: &str, now: i64) -> ApiResult<()> {
    let digits = code::parse_input(input).ok_or(e::CODE_MALFORMED)?;
    let Some(tried) = state.store.try_code(phone.as_e164(), now).await? else {
        let latest = state.store.latest_code(phone.as_e164()).await?.ok_or(e::NO_CODE)?;
        return Err(verdict_error(code::closed(&stored_code(&latest), now).unwrap_or(Verdict::Burned)));
    };
    match code::judge(&stored_code(&tried), phone, &digits) {
        Verdict::Valid if state.store.use_code(tried.id).await? => Ok(()),
        Verdict::Valid => Err(e::CODE_USED),
        other => Err(verdict_error(other)),
    }
}

// ---------------------------------------------------------------- the "Чаты" window

async fn window(state: &AppState, user: &CurrentUser, org: i64) -> ApiResult<ChatsWindow> {
    let roles: Vec<_> =
        state.store.person_roles(user.person_id).await?.into_iter().filter(|r| r.org_id == OrgId(org)).collect();
    let first = roles.first().ok_or(e::NOT_FOUND)?;
    let kind = OrgKind::parse(&first.org_kind).unwrap_or(OrgKind::Other);
    let availability = chats_availability(kind, first.chats_enabled);
    let person = state.store.person(user.person_id).await?;
    let linked = state.store.link_of(org, user.person_id.into()).await?.map(LinkedProfile::from);
    let chats = if linked.is_some() && availability.is_ok() {
        v1::list(state.store.person_chats(org, user.person_id.into()).await?)
    } else {
        Vec::new()
    };
    Ok(ChatsWindow {
        org_id: org,
        org_name: first.org_name.clone(),
        available: availability.is_ok(),
        unavailable_reason: availability.err().map(ChatsUnavailable::as_str),
        linked,
        can_manage: roles.iter().any(|r| Role::parse(&r.role).is_some_and(Role::is_employee)),
        guardian: roles.iter().any(|r| Role::parse(&r.role) == Some(Role::Guardian)),
        chats,
        suggested: AboutMe {
            last_name: person.last_name,
            first_name: person.first_name,
            middle_name: person.middle_name,
        },
    })
}

/// The "Чаты" window of an organisation the signed-in person belongs to.
#[utoipa::path(get, path = "/api/chats/{org}", tag = "chats", params(("org" = i64, Path)),
    responses((status = 200, body = ChatsWindow), (status = 404, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn chats_window(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<ChatsWindow>> {
    Ok(axum::Json(window(&state, &user, org).await?))
}

impl LinkForm {
    fn link_as(&self) -> ApiResult<LinkAs> {
        if self.join {
            return Ok(LinkAs::Existing);
        }
        let about = AboutMe {
            last_name: self.last_name.clone().unwrap_or_default(),
            first_name: self.first_name.clone().unwrap_or_default(),
            middle_name: self.middle_name.clone(),
        };
        let name = about.parse()?;
        if !self.free_from_child {
            return Ok(LinkAs::New(name));
        }
        if !self.child_consent {
            return Err(e::CONSENT_REQUIRED);
        }
        let consent =
            storage::NewConsent { version: family::CHILD_CONSENT_VERSION, wording: family::CHILD_CONSENT_TEXT };
        Ok(LinkAs::NewFreeingChild(name, consent))
    }
}

/// Link the school account to a learning profile: a new Parta ID for the
/// proven phone, or ("join") the one it has — if the family rules allow: a
/// student's school account never shares a Parta ID with anybody else's.
#[utoipa::path(post, path = "/api/chats/{org}/link", tag = "chats", params(("org" = i64, Path)), request_body = LinkForm,
    responses((status = 200, body = ChatsWindow), (status = 400, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
    Json(form): Json<LinkForm>,
) -> ApiResult<axum::Json<ChatsWindow>> {
    let target = form.link_as()?;
    let before = window(&state, &user, org).await?;
    if !before.available {
        return Err(e::CHATS_UNAVAILABLE);
    }
    let link = NewLink { org_id: org, person_id: user.person_id.into(), proof_hash: token::hash(&form.proof), target };
    let profile = state.store.link_profile(&link, state.now()).await?;
    tracing::info!(org, person = i64::from(user.person_id), profile, "learning profile linked");
    state.reconcile_people(OrgId(org), &[user.person_id]).await;
    // Pending memberships in chats staff made joined in the link itself: a
    // messenger already open (linked in another school) shows them now.
    if let Ok(accounts) = state.store.accounts_of_people(org, &[user.person_id.into()]).await {
        state.messenger.accounts_changed(accounts);
    }
    Ok(axum::Json(window(&state, &user, org).await?))
}

/// Unlink: the person leaves every chat of the organisation and the messenger
/// sessions that came from this link end.
#[utoipa::path(delete, path = "/api/chats/{org}/link", tag = "chats", params(("org" = i64, Path)),
    responses((status = 200, body = ChatsWindow)),
    security(("portal_session" = [])))]
pub async fn unlink(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<ChatsWindow>> {
    window(&state, &user, org).await?;
    let account = state.store.link_of(org, user.person_id.into()).await?.map(|l| l.account_id);
    state.store.unlink_profile(org, user.person_id.into(), state.now()).await.map_err(|err| match err {
        StorageError::NotFound => e::NOT_LINKED,
        other => other.into(),
    })?;
    tracing::info!(org, person = i64::from(user.person_id), "learning profile unlinked");
    // Their open messengers lose the school's chats (and close, if their
    // session came from this link) before the reconciler even runs.
    state.messenger.accounts_changed(account.into_iter().collect());
    state.reconcile_people(OrgId(org), &[user.person_id]).await;
    Ok(axum::Json(window(&state, &user, org).await?))
}

/// "Перейти в мессенджер": a one-time, short-lived sign-in link.
#[utoipa::path(post, path = "/api/chats/{org}/messenger-token", tag = "chats", params(("org" = i64, Path)),
    responses((status = 200, body = MessengerEntry), (status = 404, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn messenger_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<MessengerEntry>> {
    let window = window(&state, &user, org).await?;
    if !window.available {
        return Err(e::CHATS_UNAVAILABLE);
    }
    let link = state.store.link_of(org, user.person_id.into()).await?.ok_or(e::NOT_LINKED)?;
    let one_time = token::new_token(&mut rand::thread_rng());
    let expires = state.now() + secs(SIGN_IN_TOKEN_LIFETIME);
    state.store.create_sign_in_token(&token::hash(&one_time), link.account_id, link.link_id, expires).await?;
    Ok(axum::Json(MessengerEntry { url: format!("/messenger#token={one_time}") }))
}

// ---------------------------------------------------------------- messenger sessions

/// The Parta ID signed in to the messenger.
pub struct MessengerUser {
    pub session_id: i64,
    pub account_id: i64,
}

impl<S> FromRequestParts<S> for MessengerUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let value = jar.get(MESSENGER_COOKIE).ok_or(e::UNAUTHENTICATED)?.value();
        let (session_id, account_id) =
            state.store.messenger_session(&token::hash(value), state.now()).await?.ok_or(e::UNAUTHENTICATED)?;
        Ok(MessengerUser { session_id, account_id })
    }
}

async fn messenger_me_of(state: &AppState, account_id: i64) -> ApiResult<MessengerMe> {
    let account = state.store.account(account_id).await?.into();
    let profile = state.store.profile_of(account_id).await?.map(|(last_name, first_name, middle_name)| AboutMe {
        last_name,
        first_name,
        middle_name,
    });
    Ok(MessengerMe { account, profile, links: v1::list(state.store.messenger_links(account_id).await?) })
}

fn messenger_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    let mut cookie = Cookie::new(MESSENGER_COOKIE, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(state.secure_cookies);
    cookie.set_max_age(time::Duration::seconds(secs(max_age)));
    cookie
}

pub(crate) fn expired_messenger_cookie(state: &AppState) -> Cookie<'static> {
    messenger_cookie(state, String::new(), Duration::ZERO)
}

/// A fresh session token (for the cookie) and what storage keeps of it.
fn new_session(state: &AppState, headers: &HeaderMap) -> (String, storage::NewSession) {
    let token = token::new_token(&mut rand::thread_rng());
    let now = state.now();
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let new = storage::NewSession {
        token_hash: token::hash(&token),
        now,
        expires_at: now + secs(MESSENGER_SESSION_LIFETIME),
        user_agent,
    };
    (token, new)
}

async fn signed_in(state: &AppState, jar: CookieJar, session: String, account: i64) -> ApiResult<Response> {
    let me = messenger_me_of(state, account).await?;
    Ok((jar.add(messenger_cookie(state, session, MESSENGER_SESSION_LIFETIME)), axum::Json(me)).into_response())
}

/// Sign in to the messenger.
#[utoipa::path(post, path = "/api/messenger/session", tag = "messenger", request_body = MessengerSignIn,
    responses((status = 200, body = MessengerMe), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 429, body = e::ErrorBody)))]
pub async fn messenger_sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Json(form): Json<MessengerSignIn>,
) -> ApiResult<Response> {
    let (session, new) = new_session(&state, &headers);
    let account = match form {
        MessengerSignIn { token: Some(t), .. } => {
            state.store.session_from_sign_in_token(&token::hash(&t), &new).await?
        }
        MessengerSignIn { proof: Some(p), .. } => state.store.session_from_proof(&token::hash(&p), &new).await?,
        MessengerSignIn { child_code: Some(c), .. } => child_code_session(&state, client, &c, &new).await?,
        MessengerSignIn { login: Some(l), password: Some(p), .. } => login_session(&state, client, &l, p, &new).await?,
        _ => return Err(e::INVALID_INPUT),
    };
    signed_in(&state, jar, session, account).await
}

async fn child_code_session(
    state: &AppState,
    client: std::net::IpAddr,
    input: &str,
    new: &storage::NewSession,
) -> ApiResult<i64> {
    let code = family::normalize_child_code(input).ok_or(e::CHILD_CODE_MALFORMED)?;
    guard::child_code_allowed(state, client).await?;
    match state.store.session_from_child_code(&token::hash(&code), new).await? {
        Some(account) => Ok(account),
        None => {
            guard::child_code_failed(state, client).await?;
            Err(e::CHILD_CODE_INVALID)
        }
    }
}

async fn login_session(
    state: &AppState,
    client: std::net::IpAddr,
    login: &str,
    password: String,
    new: &storage::NewSession,
) -> ApiResult<i64> {
    let login = login.trim().to_lowercase();
    let guard = PasswordGuard::new(state, "child", &login, client);
    guard.check().await?;
    let account = state.store.account_by_login(&login).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let right = verify_blocking(password, hash.clone().unwrap_or_else(dummy_hash)).await && hash.is_some();
    let Some(account) = account.filter(|_| right) else {
        guard.failed().await?;
        return Err(e::INVALID_CREDENTIALS);
    };
    guard.succeeded().await?;
    state.store.start_session(account.id, new).await?;
    Ok(account.id)
}

/// "Зарегистрироваться": create a Parta ID for a proven phone.
#[utoipa::path(post, path = "/api/messenger/register", tag = "messenger", request_body = Registration,
    responses((status = 200, body = MessengerMe), (status = 409, body = e::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(form): Json<Registration>,
) -> ApiResult<Response> {
    let about = form.about.parse()?;
    let password_hash = match form.password.filter(|p| !p.is_empty()) {
        Some(p) => {
            password::check_strength(&p).map_err(|_| e::WEAK_PASSWORD)?;
            Some(hash_blocking(p).await?)
        }
        None => None,
    };
    let (session, new) = new_session(&state, &headers);
    let account =
        state.store.register_account(&token::hash(&form.proof), &about, password_hash.as_deref(), &new).await?;
    signed_in(&state, jar, session, account).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignOutOptions {
    /// Also end this browser's school-portal session (one sign-out on a
    /// shared computer).
    #[serde(default)]
    pub portal: bool,
}

/// Sign out of the messenger on this device (and, asked, of the portal too).
#[utoipa::path(delete, path = "/api/messenger/session", tag = "messenger", params(SignOutOptions),
    responses((status = 204), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn messenger_sign_out(
    State(state): State<AppState>,
    user: MessengerUser,
    Query(options): Query<SignOutOptions>,
    jar: CookieJar,
) -> ApiResult<Response> {
    state.store.revoke_messenger_session(user.account_id, user.session_id).await?;
    state.messenger.accounts_changed(vec![user.account_id]);
    let jar = jar.add(expired_messenger_cookie(&state));
    let jar = if options.portal { crate::auth::end_portal_session(&state, jar).await? } else { jar };
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

/// The signed-in Parta ID, its learning profile and the schools it is linked to.
#[utoipa::path(get, path = "/api/messenger/me", tag = "messenger",
    responses((status = 200, body = MessengerMe), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn messenger_me(State(state): State<AppState>, user: MessengerUser) -> ApiResult<axum::Json<MessengerMe>> {
    Ok(axum::Json(messenger_me_of(&state, user.account_id).await?))
}

/// Devices signed in to this Parta ID.
#[utoipa::path(get, path = "/api/messenger/sessions", tag = "messenger", responses((status = 200, body = Vec<SessionItem>)),
    security(("messenger_session" = [])))]
pub async fn sessions(State(state): State<AppState>, user: MessengerUser) -> ApiResult<axum::Json<Vec<SessionItem>>> {
    let list = state.store.messenger_sessions(user.account_id, state.now()).await?;
    Ok(axum::Json(
        list.into_iter().map(|s| SessionItem { current: s.id == user.session_id, session: s.into() }).collect(),
    ))
}

/// End a session on another device (or this one).
#[utoipa::path(delete, path = "/api/messenger/sessions/{session}", tag = "messenger",
    params(("session" = i64, Path)), responses((status = 204)),
    security(("messenger_session" = [])))]
pub async fn revoke_session(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(session): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.revoke_messenger_session(user.account_id, session).await?;
    // The revoked device's open socket closes now, not at its next request.
    state.messenger.accounts_changed(vec![user.account_id]);
    Ok(StatusCode::NO_CONTENT)
}

/// Set or change the Parta ID password.
#[utoipa::path(put, path = "/api/messenger/me/password", tag = "messenger", request_body = NewPassword,
    responses((status = 204), (status = 400, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<NewPassword>,
) -> ApiResult<StatusCode> {
    password::check_strength(&form.new).map_err(|_| e::WEAK_PASSWORD)?;
    if let Some(hash) = state.store.account(user.account_id).await?.password_hash
        && !verify_blocking(form.current.unwrap_or_default(), hash).await
    {
        return Err(e::WRONG_PASSWORD);
    }
    state.store.set_account_password(user.account_id, &hash_blocking(form.new).await?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rename the Parta ID (and its learning profile): only its holder can.
#[utoipa::path(put, path = "/api/messenger/me/name", tag = "messenger", request_body = AboutMe,
    responses((status = 200, body = MessengerMe), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn rename(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<AboutMe>,
) -> ApiResult<axum::Json<MessengerMe>> {
    state.store.rename_account(user.account_id, &form.parse()?).await?;
    // Open messengers (theirs and their chats') show names from the profile.
    state.messenger.accounts_changed(vec![user.account_id]);
    Ok(axum::Json(messenger_me_of(&state, user.account_id).await?))
}

/// Change the phone number; the new one is verified by its own code.
#[utoipa::path(put, path = "/api/messenger/me/phone", tag = "messenger", request_body = PhoneChange,
    responses((status = 200, body = MessengerMe), (status = 409, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn change_phone(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<PhoneChange>,
) -> ApiResult<axum::Json<MessengerMe>> {
    state.store.change_account_phone(user.account_id, &token::hash(&form.proof), state.now()).await?;
    Ok(axum::Json(messenger_me_of(&state, user.account_id).await?))
}

/// Delete the Parta ID: unlinked everywhere, every session ended, personal data
/// erased. Messages stay, signed "Удалённый пользователь".
#[utoipa::path(delete, path = "/api/messenger/me", tag = "messenger", responses((status = 204)),
    security(("messenger_session" = [])))]
pub async fn delete_account(State(state): State<AppState>, user: MessengerUser, jar: CookieJar) -> ApiResult<Response> {
    let links = state.store.messenger_links(user.account_id).await?;
    state.store.delete_account(user.account_id, state.now()).await?;
    state.messenger.accounts_changed(vec![user.account_id]);
    for link in links {
        state.reconcile_people(OrgId(link.org_id), &[PersonId(link.person_id)]).await;
    }
    tracing::info!(account = user.account_id, "Parta ID deleted");
    Ok((StatusCode::NO_CONTENT, jar.add(expired_messenger_cookie(&state))).into_response())
}

/// Demo mode only: the SMS messages the development sender "sent".
pub async fn sms_outbox(State(state): State<AppState>) -> ApiResult<axum::Json<Vec<sms::SentSms>>> {
    Ok(axum::Json(state.sms.dev_outbox().ok_or(e::NOT_FOUND)?))
}
