//! The body of every failed request.

use serde::Serialize;
use std::borrow::Cow;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: &'static str,
    /// Russian.
    #[schema(value_type = String)]
    pub message: Cow<'static, str>,
    #[schema(value_type = String)]
    pub message_en: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    /// The request field the error is about, as the request named it: `limit`,
    /// `text`, `members[3]`. Set for `invalid_input` whenever one field is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub field: Option<Cow<'static, str>>,
}
