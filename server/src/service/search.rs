//! Search: the messages a user may read that contain the words asked for,
//! best first, with the words marked (`storage::search`).

use super::{AuthUser, Result, Service, ServiceError};
use contract::model::{SearchHit, SearchRequest};
use contract::validate::SearchQuery;

/// Hits per page unless asked otherwise, and at most.
pub const DEFAULT_HITS: i64 = 20;
pub const MAX_HITS: i64 = 50;
/// How far a client may page into the hits: past the first 250 a search
/// should be narrowed, not paged (and deep offsets cost the database).
pub const MAX_OFFSET: i64 = 200;

/// A search request, checked once.
pub struct Search {
    query: SearchQuery,
    limit: i64,
    offset: i64,
}

impl Search {
    pub fn parse(req: &SearchRequest) -> Result<Self> {
        let query = SearchQuery::parse(&req.q)?;
        let limit = req.limit.unwrap_or(DEFAULT_HITS);
        if !(1..=MAX_HITS).contains(&limit) {
            return Err(ServiceError::BadRequest(format!(
                "limit must be between 1 and {MAX_HITS}"
            )));
        }
        let offset = req.offset.unwrap_or(0);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(ServiceError::BadRequest(format!(
                "offset must be between 0 and {MAX_OFFSET}"
            )));
        }
        Ok(Self {
            query,
            limit,
            offset,
        })
    }
}

impl Service {
    /// Searches what the caller may read: the chats they are in, and a chat
    /// they left only up to their leaving. Counted as a read for the rate
    /// limit.
    pub async fn search(&self, actor: &AuthUser, search: Search) -> Result<Vec<SearchHit>> {
        self.inner.limits.read(actor.id)?;
        let me = actor.id;
        let search = &search;
        Ok(self
            .read(|db| async move {
                db.search_messages(me, &search.query, search.limit, search.offset)
                    .await
            })
            .await?)
    }
}
