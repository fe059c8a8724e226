//! Parta's HTTP surface. The only crate that knows HTTP and JSON: handlers parse
//! requests into domain types, call the store, and map results and errors to
//! responses. The server takes its listener and a shutdown future as arguments,
//! so tests bind port 0 and stop it when they are done.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod chat_admin_api;
pub mod connections;
pub mod error;
pub mod family_api;
pub mod flood;
mod guard;
pub mod identity_api;
pub mod messenger;
pub mod metrics;
mod openapi;
mod roster_api;
mod web;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{delete, get, patch, post, put};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use storage::Store;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;

/// Everything a request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set the `Secure` flag on cookies: on whenever Parta is served over HTTPS.
    pub secure_cookies: bool,
    /// Present only in `parta demo`: the demo accounts, served at `/api/dev/demo-accounts`.
    pub demo: Option<Arc<Vec<DemoAccount>>>,
    /// Delivers SMS codes. In demo mode its outbox is shown on the code page.
    pub sms: Arc<dyn sms::SmsSender>,
    /// Unix seconds. Handlers ask the state, never the system, so tests can move
    /// time forward (code expiry, hourly limits).
    pub clock: Clock,
    /// The live messenger: connections, fan-out and the message writer.
    pub messenger: Arc<messenger::Messenger>,
    /// Attachments' bytes and the upload limit. In memory unless the binary
    /// configures a store (`[files]`).
    pub files: Arc<messenger::files::Files>,
    /// This node's calls and its SFU; off unless started (`[calls]`).
    pub calls: messenger::calls::Calls,
    /// Timeouts and the per-address cap (`[connections]`), with the count of
    /// connections per address.
    pub connections: Arc<connections::Connections>,
    /// How fast one person may act (`[flood]`).
    pub flood: Arc<flood::Flood>,
}

/// The current time in unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

impl AppState {
    /// A production state: codes go through `sms`, no demo endpoints.
    pub fn new(store: Store, sms: Arc<dyn sms::SmsSender>) -> Self {
        let messenger = messenger::Messenger::local(store.clone());
        AppState {
            store,
            secure_cookies: false,
            demo: None,
            sms,
            clock: system_clock(),
            messenger,
            files: messenger::files::Files::in_memory(),
            calls: messenger::calls::Calls::disabled(),
            connections: Arc::default(),
            flood: Arc::default(),
        }
    }

    /// Starts this node's SFU and call signalling.
    pub async fn start_calls(&mut self, config: messenger::calls::CallsConfig) -> Result<(), sfu::SfuError> {
        self.calls =
            messenger::calls::Calls::start(config, self.store.clone(), Arc::clone(&self.messenger), self.clock.clone())
                .await?;
        Ok(())
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Demo mode: the accounts are listed at `/api/dev/demo-accounts`, and the
    /// sender's outbox (the development sender keeps one) at `/api/dev/sms-outbox`.
    pub fn demo(store: Store, accounts: Vec<DemoAccount>, sms: Arc<dyn sms::SmsSender>) -> Self {
        AppState { demo: Some(Arc::new(accounts)), ..AppState::new(store, sms) }
    }
}

/// A demo login, as printed by `parta demo`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemoAccount {
    pub role: String,
    pub name: String,
    pub login: String,
    pub password: String,
    pub org: String,
    /// Who this is, e.g. «классный руководитель 5А».
    pub note: String,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(auth::login).delete(auth::logout))
        .route("/session/by-phone", post(auth::login_by_phone))
        .route("/me", get(auth::me))
        .route("/me/password", post(auth::change_password))
        .route("/orgs/{org}", get(roster_api::org))
        .route("/orgs/{org}/modules/chats", put(roster_api::set_chats_module))
        .route("/orgs/{org}/classes", get(roster_api::classes).post(roster_api::create_class))
        .route("/orgs/{org}/classes/{class}", get(roster_api::class).patch(roster_api::edit_class))
        .route("/orgs/{org}/classes/{class}/password-slip", post(roster_api::password_slip))
        .route("/orgs/{org}/people", get(roster_api::people).post(roster_api::create_person))
        .route("/orgs/{org}/people/{person}", get(roster_api::person).patch(roster_api::edit_person))
        .route("/orgs/{org}/people/{person}/class", post(roster_api::move_student))
        .route("/orgs/{org}/guardianships", put(roster_api::add_guardianship).delete(roster_api::remove_guardianship))
        .route("/orgs/{org}/subjects", get(roster_api::subjects).post(roster_api::create_subject))
        .route("/orgs/{org}/subjects/{subject}", patch(roster_api::rename_subject))
        .route("/orgs/{org}/classes/{class}/sections", post(roster_api::create_section))
        .route("/orgs/{org}/sections/{section}", delete(roster_api::close_section))
        .route(
            "/orgs/{org}/sections/{section}/{kind}/{person}",
            put(roster_api::add_section_member).delete(roster_api::remove_section_member),
        )
        .route("/orgs/{org}/chats", get(chat_admin_api::list).post(chat_admin_api::create))
        .route("/orgs/{org}/chats/options", get(chat_admin_api::options))
        .route("/orgs/{org}/chats/candidates", get(chat_admin_api::candidates))
        .route(
            "/orgs/{org}/chats/{chat}",
            get(chat_admin_api::detail).patch(chat_admin_api::edit).delete(chat_admin_api::delete),
        )
        .route("/orgs/{org}/chats/{chat}/restore", post(chat_admin_api::restore))
        .route("/orgs/{org}/chats/{chat}/archive", put(chat_admin_api::archive).delete(chat_admin_api::unarchive))
        .route("/orgs/{org}/chats/{chat}/members", post(chat_admin_api::add_members))
        .route("/orgs/{org}/chats/{chat}/members/{person}", delete(chat_admin_api::remove_member))
        .route(
            "/orgs/{org}/chats/{chat}/admins/{person}",
            put(chat_admin_api::appoint_admin).delete(chat_admin_api::revoke_admin),
        )
        .route("/orgs/{org}/chat-audit", get(chat_admin_api::audit))
        .route("/orgs/{org}/shared-parta-ids", get(family_api::shared_parta_ids))
        .route("/orgs/{org}/chat-audit.csv", get(chat_admin_api::audit_csv))
        .route("/identity/phone", post(identity_api::phone_status))
        .route("/identity/codes", post(identity_api::send_code))
        .route("/identity/proofs", post(identity_api::prove_phone))
        .route("/chats/{org}", get(identity_api::chats_window))
        .route("/chats/{org}/link", post(identity_api::link).delete(identity_api::unlink))
        .route("/chats/{org}/messenger-token", post(identity_api::messenger_token))
        .route("/messenger/session", post(identity_api::messenger_sign_in).delete(identity_api::messenger_sign_out))
        .route("/messenger/register", post(identity_api::register))
        .route("/messenger/me", get(identity_api::messenger_me).delete(identity_api::delete_account))
        .route("/messenger/me/password", put(identity_api::set_password))
        .route("/messenger/me/name", put(identity_api::rename))
        .route("/family/consent", get(family_api::consent))
        .route("/family/children", get(family_api::children))
        .route("/family/children/{child}/profile", post(family_api::create_profile).delete(family_api::delete_profile))
        .route("/family/children/{child}/sign-in-codes", post(family_api::sign_in_code))
        .route("/family/children/{child}/login", put(family_api::set_login))
        .route("/family/children/{child}/phone", put(family_api::move_to_phone))
        .route("/family/children/{child}/sessions", get(family_api::sessions))
        .route("/family/children/{child}/sessions/{session}", delete(family_api::end_session))
        .route("/messenger/me/phone", put(identity_api::change_phone))
        .route("/messenger/sessions", get(identity_api::sessions))
        .route("/messenger/sessions/{session}", delete(identity_api::revoke_session))
        .route("/messenger/chats", get(messenger::api::chats))
        .route("/messenger/chats/{chat}", get(messenger::api::chat).patch(messenger::api::update_chat))
        .route("/messenger/chats/{chat}/messages", get(messenger::api::history).post(messenger::api::send))
        .route("/messenger/chats/{chat}/messages/{message}", patch(messenger::api::edit).delete(messenger::api::delete))
        .route(
            "/messenger/chats/{chat}/messages/{message}/reactions/{emoji}",
            put(messenger::api::react).delete(messenger::api::unreact),
        )
        .route("/messenger/chats/{chat}/messages/{message}/pin", put(messenger::api::pin).delete(messenger::api::unpin))
        .route("/messenger/chats/{chat}/members", get(messenger::api::members))
        .route("/messenger/chats/{chat}/pins", get(messenger::api::pins))
        .route("/messenger/chats/{chat}/read", post(messenger::api::read))
        .route("/messenger/chats/{chat}/receipts", get(messenger::receipts::counts))
        .route("/messenger/chats/{chat}/messages/{message}/receipts", get(messenger::receipts::report))
        .route("/messenger/chats/{chat}/messages/{message}/remind", post(messenger::receipts::remind))
        .route("/messenger/chats/{chat}/polls", post(messenger::polls::create))
        .route("/messenger/chats/{chat}/messages/{message}/vote", put(messenger::polls::vote))
        .route("/messenger/chats/{chat}/messages/{message}/close-poll", post(messenger::polls::close))
        .route("/messenger/chats/{chat}/messages/{message}/poll.csv", get(messenger::polls::csv))
        .route("/messenger/direct", post(messenger::api::direct))
        .route("/messenger/chats/{chat}/files", get(messenger::files::chat_files).post(messenger::files::upload))
        .route("/messenger/files/{file}", get(messenger::files::download))
        .route("/messenger/files/{file}/thumbnail", get(messenger::files::thumbnail))
        .route("/messenger/search", get(messenger::search::search))
        .route("/orgs/{org}/dm-policy", get(messenger::api::dm_policy).put(messenger::api::set_dm_policy))
        .route("/ws", get(messenger::ws::upgrade))
        .route("/openapi.json", get(openapi::document));
    let api = if state.demo.is_some() {
        api.route("/dev/demo-accounts", get(demo_accounts)).route("/dev/sms-outbox", get(identity_api::sms_outbox))
    } else {
        api
    };
    let api = api
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), reconcile_after_change))
        .fallback(|| async { error::NOT_FOUND });

    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api", api)
        .merge(web::routes())
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn_with_state(state.clone(), connections::client_address))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        // Kept when a reverse proxy already set one (nginx's `$request_id`),
        // so its access log and Parta's lines match.
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .with_state(state)
}

/// The header that carries a request's id, answered back in the response.
static REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Every line logged while a request is handled carries its id, method and
/// path (no query string: sign-in links carry tokens there).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
/// Connections are accepted and timed as `state.connections` says.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let messenger = Arc::clone(&state.messenger);
    let calls = state.calls.clone();
    let connections = Arc::clone(&state.connections);
    state.files.spawn_collector(state.store.clone(), state.clock.clone());
    // Open sockets are told to reconnect (elsewhere, or here after the restart).
    let shutdown = async move {
        shutdown.await;
        // Calls end with a record before their sockets are told to go.
        calls.shutdown().await;
        messenger.stop();
    };
    connections::serve_app(listener, router(state), connections, shutdown).await
}

impl AppState {
    /// Reconciles an organisation's automatic chats. A failure is logged, not
    /// returned: the change that triggered it is committed, and the next
    /// reconciliation (the next change, or the one at start) catches up.
    pub async fn reconcile(&self, org: i64) {
        let started = std::time::Instant::now();
        let result = self.store.reconcile(org, false, self.now()).await;
        count_reconciliation("org", started, &result);
        self.after_reconcile(org, result).await;
    }

    /// Reconciles only the chats `people` are in or belong in: enough after a
    /// change that concerns only them (a link, an unlink, a student moved, a
    /// guardianship), and far cheaper in a large school.
    pub async fn reconcile_people(&self, org: i64, people: &[i64]) {
        let started = std::time::Instant::now();
        let result = self.store.reconcile_people(org, people, false, self.now()).await;
        count_reconciliation("people", started, &result);
        self.after_reconcile(org, result).await;
    }

    async fn after_reconcile(&self, org: i64, result: Result<provisioning::Plan, storage::StorageError>) {
        match result {
            Ok(plan) if !plan.is_empty() => {
                tracing::info!(org, changes = plan.change_count(), "chats reconciled");
                self.notify_plan(&plan).await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(org, error = %e, "chats reconciliation failed"),
        }
    }

    /// Open messengers of everyone a plan moved reload their chats.
    async fn notify_plan(&self, plan: &provisioning::Plan) {
        let people = plan.people_affected();
        let accounts = if plan.set_state.is_empty() && plan.rename.is_empty() {
            self.store.accounts_of_people(plan.org_id, &people).await
        } else {
            // A chat was renamed, hidden, shown or archived: all its members see it.
            self.store.accounts_in_org(plan.org_id).await
        };
        match accounts {
            Ok(accounts) => self.messenger.accounts_changed(accounts),
            Err(e) => tracing::error!(org = plan.org_id, error = %e, "cannot tell messengers about new chats"),
        }
    }
}

/// A reconciliation of a whole organisation or of some people in it.
fn count_reconciliation<T, E>(scope: &'static str, started: std::time::Instant, result: &Result<T, E>) {
    let outcome = if result.is_ok() { "ok" } else { "error" };
    ::metrics::counter!(metrics::PROVISIONING_RUNS, "scope" => scope, "result" => outcome).increment(1);
    ::metrics::histogram!(metrics::PROVISIONING_SECONDS, "scope" => scope).record(started.elapsed());
}

/// Set on a response by a roster handler whose change concerns only these
/// people: the middleware then reconciles their chats, not the whole school.
#[derive(Clone, Debug)]
pub(crate) struct ConcernsOnly(pub Vec<i64>);

/// Roster changes move people between chats. After any successful change under
/// `/api/orgs/{org}`, that organisation is reconciled before the response goes
/// out, so the next page already shows it: only the chats of the people named
/// by a [`ConcernsOnly`] on the response, if there is one. (Linking and
/// unlinking reconcile in their handlers: their responses show the chats.)
async fn reconcile_after_change(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let org = (request.method() != axum::http::Method::GET).then(|| org_in_path(request.uri().path())).flatten();
    let response = next.run(request).await;
    if let Some(org) = org
        && response.status().is_success()
    {
        match response.extensions().get::<ConcernsOnly>() {
            Some(ConcernsOnly(people)) => state.reconcile_people(org, people).await,
            None => state.reconcile(org).await,
        }
    }
    response
}

/// The organisation id of `/orgs/{org}/…`.
fn org_in_path(path: &str) -> Option<i64> {
    let mut segments = path.split('/').skip_while(|s| *s != "orgs");
    segments.next()?;
    segments.next()?.parse().ok()
}

/// Liveness and database reachability, for load balancers and the IT person.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.is_empty().await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Demo mode only: the accounts `parta demo` printed.
async fn demo_accounts(State(state): State<AppState>) -> axum::Json<Vec<DemoAccount>> {
    axum::Json(state.demo.as_deref().cloned().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::org_in_path;

    #[test]
    fn the_organisation_is_found_in_roster_paths() {
        assert_eq!(org_in_path("/api/orgs/12/classes/3"), Some(12));
        assert_eq!(org_in_path("/orgs/7/people"), Some(7));
        assert_eq!(org_in_path("/api/chats/5/link"), None);
        assert_eq!(org_in_path("/api/messenger/me"), None);
        assert_eq!(org_in_path("/api/orgs/x/classes"), None);
    }
}
