//! A person's rights over their data (issue 21, items 5–6; 152-ФЗ): «Мои
//! данные» in the messenger's settings makes a zip of everything Parta holds
//! on the person, in the background, downloadable for 24 hours; a school's
//! administrator makes the same for a person of the school on request and
//! erases a former member's Parta ID data (a dry-run first); and each school
//! chooses how long past years' archived chats are kept.
//!
//! The zips live in the file store under their hash, named only by
//! `data_exports` rows, so they survive a restart; `run_data_rights` expires
//! them after their day and deletes the archives retention has made due.

use crate::AppState;
use crate::auth::OrgAdmin;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::safeguarding_api::{MAX_NOTE, free_text};
use crate::wire::v1::{
    self, ErasurePlan, ExportJob, FormerMember, RetentionChat, RetentionForm, RetentionSetting, RightsAuditEntry,
    RightsForm,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use messenger::flood::Action;
use roster::ids::{OrgId, PersonId};
use roster::retention::Retention;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use storage::ExportData;
use utoipa::IntoParams;
use zip::write::SimpleFileOptions;

type Resp<T> = ApiResult<axum::Json<T>>;

// ---------------------------------------------------------------- the zip

fn date(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
}

const README: &str = "Parta — ваши данные / your data\n\n\
profile.json — Parta ID и учебный профиль / Parta ID and learning profile\n\
school_accounts.json — учётные записи школ / school accounts linked\n\
chats.json — чаты и участие / chats and memberships\n\
messages.json, messages.txt — ваши сообщения с датами (UTC) / your messages with dates (UTC)\n\
files/ — ваши файлы / your files\n";

fn pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(value).map_err(|e| e.to_string())
}

type Zip = zip::ZipWriter<std::fs::File>;

/// Adds one entry; the writing (a file's bytes may be as large as the upload
/// limit) runs on the blocking pool, and the writer comes back.
async fn put(mut zip: Zip, name: String, bytes: Vec<u8>) -> Result<Zip, String> {
    tokio::task::spawn_blocking(move || {
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
        Ok(zip)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Writes the zip of copy `id` into `file`, recording the percent done after
/// each of the person's files. Only one attachment at a time is in memory:
/// a teacher's copy may hold gigabytes of materials.
async fn zip_into(state: &AppState, id: i64, data: &ExportData, file: std::fs::File) -> Result<(), String> {
    let mut zip = zip::ZipWriter::new(file);
    let messages: Vec<Value> = data
        .messages
        .iter()
        .map(|m| {
            json!({ "id": m.id, "chat_id": m.chat_id, "chat": m.chat_name, "text": m.text,
                    "date": date(m.created_at), "edited": m.edited_at.map(date) })
        })
        .collect();
    let text: String =
        data.messages.iter().map(|m| format!("{} · {}\n{}\n\n", date(m.created_at), m.chat_name, m.text)).collect();
    let entries = [
        ("README.txt", README.as_bytes().to_vec()),
        ("profile.json", pretty(&data.profile)?),
        ("school_accounts.json", pretty(&data.school_accounts)?),
        ("chats.json", pretty(&data.chats)?),
        ("messages.json", pretty(&messages)?),
        ("messages.txt", text.into_bytes()),
        ("files.json", pretty(&data.files)?),
    ];
    for (name, bytes) in entries {
        zip = put(zip, name.to_string(), bytes).await?;
    }
    let total = data.files.len().max(1) as i64;
    for (i, file) in data.files.iter().enumerate() {
        let bytes = state.files.blobs.read(&file.sha256).await.map_err(|e| e.to_string())?;
        zip = put(zip, format!("files/{}-{}", file.id, file.name), bytes.to_vec()).await?;
        let done = 10 + 85 * (i as i64 + 1) / total;
        if let Err(err) = state.store.set_export_progress(id, done).await {
            tracing::warn!(export = id, error = %err, "cannot record progress");
        }
    }
    tokio::task::spawn_blocking(move || zip.finish().map(drop).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())?
}

/// Makes the zip of a pending copy and stores it; a failure marks the copy
/// failed (the person asks again).
pub async fn build_export(state: AppState, id: i64) {
    if let Err(err) = try_build(&state, id).await {
        tracing::error!(export = id, error = %err, "a copy of a person's data failed");
        if let Err(err) = state.store.fail_export(id).await {
            tracing::error!(export = id, error = %err, "cannot mark the copy failed");
        }
    }
}

async fn try_build(state: &AppState, id: i64) -> Result<(), String> {
    let job = state.store.export_job(id).await.map_err(|e| e.to_string())?;
    if job.status != "pending" {
        return Ok(());
    }
    let data = state.store.export_data(&job).await.map_err(|e| e.to_string())?;
    state.store.set_export_progress(id, 10).await.map_err(|e| e.to_string())?;
    // The zip is written into a staging file of the file store, then stored
    // under the hash of what was written.
    let blobs = &state.files.blobs;
    let mut staged = blobs.stage(u64::MAX).map_err(|e| e.to_string())?.finish().await.map_err(|e| e.to_string())?;
    let file = std::fs::OpenOptions::new().write(true).truncate(true).open(staged.path()).map_err(|e| e.to_string())?;
    zip_into(state, id, &data, file).await?;
    staged.rehash().await.map_err(|e| e.to_string())?;
    blobs.put_staged(&staged).await.map_err(|e| e.to_string())?;
    let size = staged.size as i64;
    state.store.finish_export(id, &staged.sha256, size, state.now()).await.map_err(|e| e.to_string())?;
    tracing::info!(export = id, size, "a copy of a person's data is ready");
    Ok(())
}

fn spawn_build(state: &AppState, id: i64) {
    tokio::spawn(build_export(state.clone(), id));
}

async fn download_zip(state: &AppState, job: storage::ExportJob, headers: &HeaderMap) -> ApiResult<Response> {
    let expired =
        job.status == "expired" || job.expires_at.is_some_and(|at| identity::rights::export_expired(at, state.now()));
    if expired {
        return Err(e::EXPORT_EXPIRED);
    }
    let (Some(sha), Some(size), "ready") = (job.sha256.as_deref(), job.size, job.status.as_str()) else {
        return Err(e::EXPORT_NOT_READY);
    };
    let name = format!("parta-data-{}.zip", job.id);
    crate::messenger::files::serve(state, sha, size, "application/zip", Some((&name, false)), headers).await
}

// ---------------------------------------------------------------- the person's own

/// «Мои данные»: starts a copy of everything Parta holds on the signed-in
/// person (a copy still being made is answered again).
#[utoipa::path(post, path = "/api/messenger/exports", tag = "data rights",
    responses((status = 202, body = ExportJob), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn request_my_export(State(state): State<AppState>, user: MessengerUser) -> ApiResult<Response> {
    state.flood.admit(user.account_id, Action::Write).await?;
    let job = state.store.create_self_export(user.account_id, state.now()).await?;
    spawn_build(&state, job.id);
    Ok((StatusCode::ACCEPTED, axum::Json(ExportJob::from(job))).into_response())
}

/// The signed-in person's copies, newest first.
#[utoipa::path(get, path = "/api/messenger/exports", tag = "data rights",
    responses((status = 200, body = Vec<ExportJob>)),
    security(("messenger_session" = [])))]
pub async fn my_exports(State(state): State<AppState>, user: MessengerUser) -> Resp<Vec<ExportJob>> {
    Ok(axum::Json(v1::list(state.store.account_exports(user.account_id).await?)))
}

async fn my_job(state: &AppState, user: &MessengerUser, id: i64) -> ApiResult<storage::ExportJob> {
    let job = state.store.export_job(id).await?;
    if job.account_id != Some(user.account_id) {
        return Err(e::NOT_FOUND);
    }
    Ok(job)
}

#[utoipa::path(get, path = "/api/messenger/exports/{export}", tag = "data rights", params(("export" = i64, Path)),
    responses((status = 200, body = ExportJob), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn my_export(State(state): State<AppState>, user: MessengerUser, Path(id): Path<i64>) -> Resp<ExportJob> {
    Ok(axum::Json(my_job(&state, &user, id).await?.into()))
}

/// The zip, for 24 hours after it was made.
#[utoipa::path(get, path = "/api/messenger/exports/{export}/download", tag = "data rights",
    params(("export" = i64, Path)),
    responses((status = 200, content_type = "application/zip"), (status = 404, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn download_my_export(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let job = my_job(&state, &user, id).await?;
    download_zip(&state, job, &headers).await
}

// ---------------------------------------------------------------- administrators

fn reason(form: &RightsForm) -> ApiResult<String> {
    let reason = free_text("reason", &form.reason, MAX_NOTE)?;
    if reason.is_empty() {
        return Err(e::INVALID_INPUT.field("reason"));
    }
    Ok(reason)
}

/// An administrator makes a copy of a person's data at their request; the
/// request is audited with its reason.
#[utoipa::path(post, path = "/api/orgs/{org}/people/{person}/exports", tag = "data rights",
    params(("org" = i64, Path), ("person" = i64, Path)), request_body = RightsForm,
    responses((status = 202, body = ExportJob), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 429, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn request_export(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path((org, person)): Path<(i64, i64)>,
    Json(form): Json<RightsForm>,
) -> ApiResult<Response> {
    let reason = reason(&form)?;
    let job = state.store.create_org_export(org, i64::from(admin.person_id), person, &reason, state.now()).await?;
    tracing::info!(org, person, by = i64::from(admin.person_id), export = job.id, "copy of a person's data requested");
    spawn_build(&state, job.id);
    Ok((StatusCode::ACCEPTED, axum::Json(ExportJob::from(job))).into_response())
}

/// The copies the school's administrators made, newest first.
#[utoipa::path(get, path = "/api/orgs/{org}/exports", tag = "data rights", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<ExportJob>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn org_exports(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<i64>) -> Resp<Vec<ExportJob>> {
    Ok(axum::Json(v1::list(state.store.org_exports(org).await?)))
}

async fn org_job(state: &AppState, org: i64, id: i64) -> ApiResult<storage::ExportJob> {
    let job = state.store.export_job(id).await?;
    if job.org_id != Some(org) || job.account_id.is_some() {
        return Err(e::NOT_FOUND);
    }
    Ok(job)
}

#[utoipa::path(get, path = "/api/orgs/{org}/exports/{export}", tag = "data rights",
    params(("org" = i64, Path), ("export" = i64, Path)),
    responses((status = 200, body = ExportJob), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn org_export(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, id)): Path<(i64, i64)>,
) -> Resp<ExportJob> {
    Ok(axum::Json(org_job(&state, org, id).await?.into()))
}

#[utoipa::path(get, path = "/api/orgs/{org}/exports/{export}/download", tag = "data rights",
    params(("org" = i64, Path), ("export" = i64, Path)),
    responses((status = 200, content_type = "application/zip"), (status = 403, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn download_org_export(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let job = org_job(&state, org, id).await?;
    download_zip(&state, job, &headers).await
}

/// The people who left the school and whose data may be erased.
#[utoipa::path(get, path = "/api/orgs/{org}/former-members", tag = "data rights", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<FormerMember>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn former_members(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
) -> Resp<Vec<FormerMember>> {
    Ok(axum::Json(v1::list(state.store.former_members(org).await?)))
}

/// The dry-run of an erasure: what would go. Refused (nothing to show) for
/// someone still enrolled.
#[utoipa::path(get, path = "/api/orgs/{org}/people/{person}/erasure", tag = "data rights",
    params(("org" = i64, Path), ("person" = i64, Path)),
    responses((status = 200, body = ErasurePlan), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn erasure_preview(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, person)): Path<(i64, i64)>,
) -> Resp<ErasurePlan> {
    Ok(axum::Json(state.store.erasure_plan(org, person).await?.into()))
}

/// Erases a former member's Parta ID data in the school: their messages stay
/// as «Удалённый пользователь», their files go. Needs `confirm`; audited.
#[utoipa::path(post, path = "/api/orgs/{org}/people/{person}/erasure", tag = "data rights",
    params(("org" = i64, Path), ("person" = i64, Path)), request_body = RightsForm,
    responses((status = 200, body = ErasurePlan), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path((org, person)): Path<(i64, i64)>,
    Json(form): Json<RightsForm>,
) -> Resp<ErasurePlan> {
    let reason = reason(&form)?;
    if !form.confirm {
        return Err(e::CONFIRMATION_REQUIRED.field("confirm"));
    }
    let links = state.store.accounts_of_people(org, &[person]).await?;
    let erased = state.store.erase_person(org, i64::from(admin.person_id), person, &reason, state.now()).await?;
    tracing::info!(org, person, by = i64::from(admin.person_id), "a former member's data erased");
    // Sessions of an erased Parta ID close; the removed files' bytes go now.
    state.messenger.accounts_changed(links);
    state.reconcile_people(OrgId(org), &[PersonId(person)]).await;
    use crate::messenger::files::{BLOB_GRACE, PENDING_GRACE};
    if let Err(err) = state.files.collect(&state.store, state.now(), PENDING_GRACE, BLOB_GRACE).await {
        tracing::warn!(code = err.code, "collecting an erased person's files failed; the hourly run retries");
    }
    Ok(axum::Json(erased.into()))
}

#[utoipa::path(get, path = "/api/orgs/{org}/retention", tag = "data rights", params(("org" = i64, Path)),
    responses((status = 200, body = RetentionSetting), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn retention(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<i64>) -> Resp<RetentionSetting> {
    Ok(axum::Json(state.store.retention(org).await?.into()))
}

fn parse_retention(years: Option<i64>) -> ApiResult<Retention> {
    Retention::from_years(years).map_err(|_| e::INVALID_INPUT.field("years"))
}

/// The school chooses how long archived chats of past years are kept; audited.
#[utoipa::path(put, path = "/api/orgs/{org}/retention", tag = "data rights", params(("org" = i64, Path)),
    request_body = RetentionForm,
    responses((status = 200, body = RetentionSetting), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn set_retention(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(org): Path<i64>,
    Json(form): Json<RetentionForm>,
) -> Resp<RetentionSetting> {
    let retention = parse_retention(form.years)?;
    Ok(axum::Json(state.store.set_retention(org, i64::from(admin.person_id), retention, state.now()).await?.into()))
}

fn today(state: &AppState) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp(state.now(), 0).unwrap_or_default().date_naive()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A setting to try (0: off); the school's own when absent.
    #[param(minimum = 0, maximum = 25)]
    pub years: Option<i64>,
}

/// What retention deletes today: the school's setting, or one to try.
#[utoipa::path(get, path = "/api/orgs/{org}/retention/preview", tag = "data rights",
    params(("org" = i64, Path), PreviewQuery),
    responses((status = 200, body = Vec<RetentionChat>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn retention_preview(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
    Query(q): Query<PreviewQuery>,
) -> Resp<Vec<RetentionChat>> {
    let retention = match q.years {
        Some(years) => parse_retention(Some(years))?,
        None => parse_retention(state.store.retention(org).await?.years)?,
    };
    Ok(axum::Json(v1::list(state.store.retention_preview(org, retention, today(&state)).await?)))
}

/// Who exported or erased whose data, when and why; retention's settings and runs.
#[utoipa::path(get, path = "/api/orgs/{org}/data-rights-audit", tag = "data rights", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<RightsAuditEntry>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn audit(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<i64>) -> Resp<Vec<RightsAuditEntry>> {
    Ok(axum::Json(v1::list(state.store.data_rights_audit(org).await?)))
}

// ---------------------------------------------------------------- background

/// Expires the copies past their day (their zips are deleted) and deletes the
/// archived chats the schools' retention made due. One run; `jobs` runs it
/// hourly on the node that leads the background jobs.
pub async fn run_retention(state: &AppState) {
    match state.store.expire_exports(state.now()).await {
        Ok(zips) => {
            for sha in &zips {
                if let Err(err) = state.files.blobs.delete(sha).await {
                    tracing::error!(error = %err, "cannot delete an expired copy's zip");
                }
            }
        }
        Err(err) => tracing::error!(error = %err, "expiring copies of people's data failed"),
    }
    match state.store.run_retention(today(state), state.now()).await {
        Ok(done) => {
            for (org, chats) in done {
                tracing::info!(org, chats, "archived chats deleted by the school's retention");
            }
        }
        Err(err) => tracing::error!(error = %err, "retention of archived chats failed"),
    }
}

/// Makes again the copies a restart interrupted (the jobs' leader, when it
/// takes the lead).
pub async fn resume_exports(state: &AppState) {
    match state.store.pending_exports().await {
        Ok(pending) => {
            for id in pending {
                build_export(state.clone(), id).await;
            }
        }
        Err(err) => tracing::error!(error = %err, "cannot resume copies of people's data"),
    }
}
