//! `GET /api/messenger/search`: full-text search over the chats the viewer
//! can open — never others — with Russian word forms (the `search` crate).

use crate::AppState;
use crate::error::extract::Query;
use crate::error::{self as e, ApiError, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{self, SearchHit};
use axum::extract::State;
use serde::Deserialize;
use storage::SearchFilter;
use utoipa::IntoParams;

const DEFAULT_LIMIT: i64 = 30;
const MAX_LIMIT: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (required: at least one word, at most 500
    /// characters); other forms of each word match too («урок» finds «уроки»),
    /// and «ё» is «е».
    #[param(min_length = 1, max_length = 500)]
    pub q: String,
    /// Only this chat.
    pub chat: Option<i64>,
    /// Only messages by this person (an author's `person` id).
    pub sender: Option<i64>,
    /// From this moment: unix seconds or a date `2026-09-01` (UTC), inclusive.
    pub from: Option<String>,
    /// Up to this moment: unix seconds (exclusive) or a date (inclusive).
    pub to: Option<String>,
    /// Only messages with (`true`) or without (`false`) attachments.
    pub has_file: Option<bool>,
    /// The next page: results older than this message id.
    pub before: Option<i64>,
    /// 1–100; 30 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A moment of a filter: unix seconds, or the start of a day (`end`: of the
/// next one, so the day is included).
fn moment(raw: Option<&str>, end: bool) -> ApiResult<Option<i64>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(Some(secs));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| e::INVALID_INPUT)?;
    let day = if end { day.succ_opt().ok_or(e::INVALID_INPUT)? } else { day };
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()))
}

impl From<search::QueryError> for ApiError {
    fn from(err: search::QueryError) -> Self {
        match err {
            search::QueryError::NoWords => e::SEARCH_NO_WORDS,
            search::QueryError::TooLong { .. } => e::SEARCH_TOO_LONG,
        }
    }
}

#[utoipa::path(get, path = "/api/messenger/search", tag = "messenger", params(SearchQuery),
    responses((status = 200, body = Vec<SearchHit>), (status = 400, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn search(
    State(state): State<AppState>,
    user: MessengerUser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<Vec<SearchHit>>> {
    let limit = e::bounded("limit", q.limit, DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let filter = SearchFilter {
        query: search::Query::parse(&q.q).map_err(|err| ApiError::from(err).field("q"))?,
        chat: q.chat,
        sender: q.sender,
        from: moment(q.from.as_deref(), false).map_err(|err| err.field("from"))?,
        to: moment(q.to.as_deref(), true).map_err(|err| err.field("to"))?,
        has_file: q.has_file,
        before: q.before,
        limit,
    };
    Ok(axum::Json(v1::list(state.store.search_messages(user.account_id, &filter).await?)))
}

#[cfg(test)]
mod tests {
    use super::moment;

    #[test]
    fn a_date_filter_takes_whole_days() {
        assert_eq!(moment(Some("2026-09-01"), false).unwrap(), Some(1_788_220_800));
        assert_eq!(moment(Some("2026-09-01"), true).unwrap(), Some(1_788_220_800 + 86_400));
        assert_eq!(moment(Some("1788220800"), true).unwrap(), Some(1_788_220_800));
        assert_eq!(moment(Some(" "), false).unwrap(), None);
        assert!(moment(Some("вчера"), false).is_err());
    }
}
