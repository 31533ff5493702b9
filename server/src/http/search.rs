//! Search over the messages the caller may read.

use super::{ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, Search};
use axum::{Json, extract::State};
use contract::model::{SearchHit, SearchRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// Messages containing every word of `q` (the last also as the start of a
/// word), in the chats the caller takes part in (a chat they left: up to
/// their leaving), best match first, with the matched words as character
/// ranges. System lines are not searched.
#[utoipa::path(get, path = "/api/search", tag = "search", security(("bearer" = [])),
    params(SearchRequest),
    responses(
        (status = 200, body = [SearchHit]),
        (status = 400, description = "A missing q, or a limit or offset out of range or not a number", body = ErrorBody),
        (status = 422, description = "A q with no word, too long, with too many words or a line break (`details.field`: `q`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(req): ApiQuery<SearchRequest>,
) -> ApiResult<Json<Vec<SearchHit>>> {
    let search = Search::parse(&req)?;
    Ok(Json(state.service.search(&user, search).await?))
}
