//! Parta's HTTP surface. The only crate that knows HTTP and JSON: handlers parse
//! requests into domain types, call the store, and map results and errors to
//! responses. The server takes its listener and a shutdown future as arguments,
//! so tests bind port 0 and stop it when they are done.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod chat_admin_api;
pub mod connections;
pub mod data_rights_api;
pub mod error;
pub mod family_api;
pub mod flood;
mod guard;
pub mod identity_api;
pub mod jobs;
pub mod messenger;
pub mod metrics;
pub mod notify;
mod openapi;
pub mod push_api;
pub mod quiet_api;
mod roster_api;
pub mod safeguarding_api;
mod web;
pub mod wire;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{any, get};
use roster::ids::{OrgId, PersonId};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use storage::Store;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::v1::DemoAccount;

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
    /// The quiet hours of a school that has not chosen its own (its zone:
    /// the configured `time_zone`).
    pub default_quiet: ::messenger::quiet::QuietHours,
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
            default_quiet: ::messenger::quiet::QuietHours::school_default(::messenger::quiet::DEFAULT_ZONE),
        }
    }

    /// Starts Web Push: new messages are pushed to members who have not read
    /// them, and direct calls ring. After [`AppState::join_cluster`], whose
    /// messenger it hooks into, and before [`AppState::start_calls`].
    pub async fn start_push(&mut self, config: &notify::PushConfig) -> Result<(), notify::PushStartError> {
        let started = notify::Notifier::start(
            config,
            self.store.clone(),
            self.clock.clone(),
            self.demo.is_some(),
            self.default_quiet.clone(),
        )
        .await?;
        if let Some(notifier) = started {
            self.messenger.set_notifier(notifier);
        }
        Ok(())
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

    /// Makes this node one of several: its messenger hears the others, and
    /// they it, through NATS. Before anything is served or started.
    pub fn join_cluster(&mut self, link: cluster::Link, streams: cluster::Streams) {
        self.messenger = messenger::Messenger::clustered(self.store.clone(), link, streams);
    }

    /// Demo mode: the accounts are listed at `/api/dev/demo-accounts`, and the
    /// sender's outbox (the development sender keeps one) at `/api/dev/sms-outbox`.
    pub fn demo(store: Store, accounts: Vec<DemoAccount>, sms: Arc<dyn sms::SmsSender>) -> Self {
        AppState { demo: Some(Arc::new(accounts)), ..AppState::new(store, sms) }
    }
}

/// Every route of the API with its OpenAPI entry, from one declaration: a
/// route cannot be served undocumented or documented unserved. (`/api/ws` is
/// described in docs/protocol.md; `/api/dev/*` exist only in the demo.)
pub(crate) fn documented_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(auth::login, auth::logout))
        .routes(routes!(auth::login_by_phone))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(roster_api::org))
        .routes(routes!(roster_api::set_chats_module))
        .routes(routes!(roster_api::classes, roster_api::create_class))
        .routes(routes!(roster_api::class, roster_api::edit_class))
        .routes(routes!(roster_api::password_slip))
        .routes(routes!(roster_api::people, roster_api::create_person))
        .routes(routes!(roster_api::person, roster_api::edit_person))
        .routes(routes!(roster_api::move_student))
        .routes(routes!(roster_api::add_guardianship, roster_api::remove_guardianship))
        .routes(routes!(roster_api::subjects, roster_api::create_subject))
        .routes(routes!(roster_api::rename_subject))
        .routes(routes!(roster_api::create_section))
        .routes(routes!(roster_api::close_section))
        .routes(routes!(roster_api::add_section_member, roster_api::remove_section_member))
        .routes(routes!(chat_admin_api::list, chat_admin_api::create))
        .routes(routes!(chat_admin_api::options))
        .routes(routes!(chat_admin_api::candidates))
        .routes(routes!(chat_admin_api::detail, chat_admin_api::edit, chat_admin_api::delete))
        .routes(routes!(chat_admin_api::restore))
        .routes(routes!(chat_admin_api::archive, chat_admin_api::unarchive))
        .routes(routes!(chat_admin_api::add_members))
        .routes(routes!(chat_admin_api::remove_member))
        .routes(routes!(chat_admin_api::appoint_admin, chat_admin_api::revoke_admin))
        .routes(routes!(chat_admin_api::audit))
        .routes(routes!(family_api::shared_parta_ids))
        .routes(routes!(chat_admin_api::audit_csv))
        .routes(routes!(identity_api::phone_status))
        .routes(routes!(identity_api::send_code))
        .routes(routes!(identity_api::prove_phone))
        .routes(routes!(identity_api::chats_window))
        .routes(routes!(identity_api::link, identity_api::unlink))
        .routes(routes!(identity_api::messenger_token))
        .routes(routes!(identity_api::messenger_sign_in, identity_api::messenger_sign_out))
        .routes(routes!(identity_api::register))
        .routes(routes!(identity_api::messenger_me, identity_api::delete_account))
        .routes(routes!(identity_api::set_password))
        .routes(routes!(identity_api::rename))
        .routes(routes!(family_api::consent))
        .routes(routes!(family_api::children))
        .routes(routes!(family_api::create_profile, family_api::delete_profile))
        .routes(routes!(family_api::sign_in_code))
        .routes(routes!(family_api::set_login))
        .routes(routes!(family_api::move_to_phone))
        .routes(routes!(family_api::sessions))
        .routes(routes!(family_api::end_session))
        .routes(routes!(identity_api::change_phone))
        .routes(routes!(identity_api::sessions))
        .routes(routes!(identity_api::revoke_session))
        .routes(routes!(messenger::api::chats))
        .routes(routes!(messenger::api::chat, messenger::api::update_chat))
        .routes(routes!(messenger::api::history, messenger::api::send))
        .routes(routes!(messenger::api::edit, messenger::api::delete))
        .routes(routes!(messenger::api::react, messenger::api::unreact))
        .routes(routes!(messenger::api::pin, messenger::api::unpin))
        .routes(routes!(messenger::api::members))
        .routes(routes!(messenger::api::pins))
        .routes(routes!(messenger::api::read))
        .routes(routes!(messenger::api::direct))
        .routes(routes!(messenger::files::chat_files, messenger::files::upload))
        .routes(routes!(messenger::files::download))
        .routes(routes!(messenger::files::thumbnail))
        .routes(routes!(messenger::search::search))
        .routes(routes!(messenger::api::dm_policy, messenger::api::set_dm_policy))
        .routes(routes!(data_rights_api::request_my_export, data_rights_api::my_exports))
        .routes(routes!(data_rights_api::my_export))
        .routes(routes!(data_rights_api::download_my_export))
        .routes(routes!(data_rights_api::request_export))
        .routes(routes!(data_rights_api::org_exports))
        .routes(routes!(data_rights_api::org_export))
        .routes(routes!(data_rights_api::download_org_export))
        .routes(routes!(data_rights_api::former_members))
        .routes(routes!(data_rights_api::erasure_preview, data_rights_api::erase))
        .routes(routes!(data_rights_api::retention, data_rights_api::set_retention))
        .routes(routes!(data_rights_api::retention_preview))
        .routes(routes!(data_rights_api::audit))
        .routes(routes!(safeguarding_api::report))
        .routes(routes!(safeguarding_api::my_reports))
        .routes(routes!(safeguarding_api::block_state, safeguarding_api::block, safeguarding_api::unblock))
        .routes(routes!(safeguarding_api::queue))
        .routes(routes!(safeguarding_api::detail))
        .routes(routes!(safeguarding_api::decide))
        .routes(routes!(safeguarding_api::staff))
        .routes(routes!(safeguarding_api::oversee))
        .routes(routes!(safeguarding_api::oversight_log))
        .routes(routes!(safeguarding_api::oversight_notice))
        .routes(routes!(safeguarding_api::name_staff, safeguarding_api::unname_staff))
        .routes(routes!(messenger::receipts::counts))
        .routes(routes!(messenger::receipts::report))
        .routes(routes!(messenger::receipts::remind))
        .routes(routes!(messenger::polls::create))
        .routes(routes!(messenger::polls::vote))
        .routes(routes!(messenger::polls::close))
        .routes(routes!(messenger::polls::csv))
        .routes(routes!(push_api::key))
        .routes(routes!(push_api::subscribe, push_api::unsubscribe))
        .routes(routes!(push_api::settings, push_api::save_settings))
        .routes(routes!(push_api::chat_notifications, push_api::set_chat_notifications))
        .routes(routes!(quiet_api::quiet_hours, quiet_api::set_quiet_hours))
        .routes(routes!(quiet_api::chat_quiet))
        .routes(routes!(messenger::consent::create))
        .routes(routes!(messenger::consent::view, messenger::consent::answer))
        .routes(routes!(messenger::consent::reopen))
        .routes(routes!(messenger::consent::report))
        .routes(routes!(messenger::consent::remind))
        .routes(routes!(messenger::consent::csv))
        .routes(routes!(messenger::scheduled::list, messenger::scheduled::schedule))
        .routes(routes!(messenger::scheduled::edit, messenger::scheduled::cancel))
}

pub fn router(state: AppState) -> Router {
    let (api, _) = documented_api().split_for_parts();
    let api = api.route("/api/ws", get(messenger::ws::upgrade)).route("/api/openapi.json", get(openapi::document));
    let api = if state.demo.is_some() {
        api.route("/api/dev/demo-accounts", get(demo_accounts))
            .route("/api/dev/sms-outbox", get(identity_api::sms_outbox))
    } else {
        api
    };
    let api = api
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), reconcile_after_change))
        .route_layer(axum::middleware::from_fn(run_to_completion))
        .route("/api", any(|| async { error::NOT_FOUND }))
        .route("/api/{*rest}", any(|| async { error::NOT_FOUND }));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
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

/// Runs each API request to its end even when its client goes away first.
/// A handler dropped inside a storage call can leave a pooled connection in
/// a transaction nothing will end (sqlx's `BEGIN` is not cancel-safe:
/// launchbadge/sqlx#2054, #4385), and every later write on that connection
/// then fails; seen when a load generator gave up on slow votes. Dropping
/// a request now drops only its answer. (A panicking handler becomes a 500.)
async fn run_to_completion(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    use tracing::Instrument;
    match tokio::spawn(next.run(request).instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "a request's handler failed");
            error::INTERNAL.into_response()
        }
    }
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
    pub async fn reconcile(&self, org: OrgId) {
        let started = std::time::Instant::now();
        let result = self.store.reconcile(org, storage::Run::Apply, self.now()).await;
        count_reconciliation("org", started, &result);
        self.after_reconcile(org, result).await;
    }

    /// Reconciles only the chats `people` are in or belong in: enough after a
    /// change that concerns only them (a link, an unlink, a student moved, a
    /// guardianship), and far cheaper in a large school.
    pub async fn reconcile_people(&self, org: OrgId, people: &[PersonId]) {
        let started = std::time::Instant::now();
        let result = self.store.reconcile_people(org, people, storage::Run::Apply, self.now()).await;
        count_reconciliation("people", started, &result);
        self.after_reconcile(org, result).await;
    }

    async fn after_reconcile(&self, org: OrgId, result: Result<provisioning::Plan, storage::StorageError>) {
        let org = i64::from(org);
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
pub(crate) struct ConcernsOnly(pub Vec<PersonId>);

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
fn org_in_path(path: &str) -> Option<OrgId> {
    let mut segments = path.split('/').skip_while(|s| *s != "orgs");
    segments.next()?;
    segments.next()?.parse().ok().map(OrgId)
}

/// Alive: the process answers. A load balancer or supervisor restarts a
/// node that does not; it says nothing of the database (see `/readyz`).
async fn healthz() -> &'static str {
    "ok"
}

/// What `/readyz` found.
#[derive(Serialize)]
struct Readiness {
    ready: bool,
    /// "ok" or what is wrong with the database.
    database: &'static str,
    /// "ok", "unreachable", or "single node" without NATS.
    bus: &'static str,
}

/// Can serve: the database answers and, in a cluster, NATS is reachable. A
/// load balancer sends no new clients to a node that is not ready; its open
/// sockets stay and catch up when it is again.
async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let database = match state.store.is_empty().await {
        Ok(_) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database is unreachable");
            "unreachable"
        }
    };
    let bus = match (state.messenger.is_clustered(), state.messenger.bus.connected()) {
        (false, _) => "single node",
        (true, true) => "ok",
        (true, false) => "unreachable",
    };
    let ready = database == "ok" && bus != "unreachable";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(Readiness { ready, database, bus }))
}

/// Demo mode only: the accounts `parta demo` printed.
async fn demo_accounts(State(state): State<AppState>) -> axum::Json<Vec<DemoAccount>> {
    axum::Json(state.demo.as_deref().cloned().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::{OrgId, org_in_path, run_to_completion};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::sync::Notify;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_whose_client_went_away_still_runs_to_its_end() {
        let (go_on, finished) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        let handler = {
            let (go_on, finished) = (Arc::clone(&go_on), Arc::clone(&finished));
            move || async move {
                go_on.notified().await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        let app = axum::Router::new()
            .route("/write", axum::routing::post(handler))
            .route_layer(axum::middleware::from_fn(run_to_completion));
        let request = axum::http::Request::post("/write").body(axum::body::Body::empty()).unwrap();
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(20), app.oneshot(request)).await;
        assert!(gave_up.is_err(), "the client gives up while the handler waits");
        go_on.notify_one();
        for _ in 0..100 {
            if finished.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the handler was dropped with its client");
    }

    #[test]
    fn the_organisation_is_found_in_roster_paths() {
        assert_eq!(org_in_path("/api/orgs/12/classes/3"), Some(OrgId(12)));
        assert_eq!(org_in_path("/orgs/7/people"), Some(OrgId(7)));
        assert_eq!(org_in_path("/api/chats/5/link"), None);
        assert_eq!(org_in_path("/api/messenger/me"), None);
        assert_eq!(org_in_path("/api/orgs/x/classes"), None);
    }
}
