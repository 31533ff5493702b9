//! The dispute console's reads: cases with everything the queue shows,
//! filtered by status, by who has them and by words.

use super::jobs::job_status;
use super::{Db, Result, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{ChatId, DisputeCase, DisputeStatus, Outcome, UserId, UserRef};

/// Which cases, already validated by the service.
pub struct CaseFilter<'a> {
    /// `None`: open and resolved.
    pub status: Option<DisputeStatus>,
    /// Only this LSM's.
    pub lsm: Option<UserId>,
    /// A lowercase `LIKE` pattern with `\` escapes (`%words%`).
    pub pattern: Option<&'a str>,
    /// Only one case.
    pub id: Option<i64>,
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: i64,
    chat_id: ChatId,
    job_id: i64,
    job_title: String,
    job_status: String,
    job_confirmed: bool,
    status: String,
    opened_at: DateTime<Utc>,
    raised_by_id: i64,
    raised_by_name: String,
    reason: String,
    lsm_id: i64,
    lsm_name: String,
    customer_id: i64,
    customer_name: String,
    provider_id: i64,
    provider_name: String,
    last_activity_at: DateTime<Utc>,
    outcome: Option<String>,
    refund_cents: Option<i64>,
    note: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    currency: Option<String>,
}

const CASE_SELECT: &str = "SELECT d.id, d.chat_id, j.id AS job_id, j.title AS job_title, \
     j.status AS job_status, j.confirmed_at IS NOT NULL AS job_confirmed, d.status, \
     d.created_at AS opened_at, r.id AS raised_by_id, r.name AS raised_by_name, d.reason, \
     l.id AS lsm_id, l.name AS lsm_name, cu.id AS customer_id, cu.name AS customer_name, \
     pv.id AS provider_id, pv.name AS provider_name, \
     COALESCE(c.last_message_at, d.created_at) AS last_activity_at, \
     d.outcome, d.refund_cents, CASE WHEN d.status = 'resolved' THEN d.resolution END AS note, \
     d.resolved_at, d.currency \
     FROM disputes d JOIN chats c ON c.id = d.chat_id JOIN jobs j ON j.id = c.job_id \
     JOIN users r ON r.id = d.raised_by JOIN users l ON l.id = d.lsm_id \
     JOIN users cu ON cu.id = j.customer_id JOIN users pv ON pv.id = j.provider_id \
     WHERE ($1 IS NULL OR d.status = $1) AND ($2 IS NULL OR d.lsm_id = $2) \
     AND ($3 IS NULL OR d.id = $3) AND ($4 IS NULL OR d.id < $4) \
     AND ($5 IS NULL OR lower(j.title) LIKE $5 ESCAPE '\\' OR lower(d.reason) LIKE $5 ESCAPE '\\' \
       OR lower(COALESCE(d.resolution, '')) LIKE $5 ESCAPE '\\' OR lower(cu.name) LIKE $5 ESCAPE '\\' \
       OR lower(pv.name) LIKE $5 ESCAPE '\\' OR lower(l.name) LIKE $5 ESCAPE '\\') \
     ORDER BY d.id DESC LIMIT $6";

/// Words as a `LIKE` pattern that matches them anywhere, literally.
pub fn like_pattern(words: &str) -> String {
    let mut p = String::with_capacity(words.len() + 2);
    p.push('%');
    for ch in words.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl Db {
    /// Cases, newest first.
    pub async fn dispute_cases(
        &self,
        filter: &CaseFilter<'_>,
        currency: &str,
    ) -> Result<Vec<DisputeCase>> {
        let status = filter.status.map(|s| match s {
            DisputeStatus::Open => "open",
            DisputeStatus::Resolved => "resolved",
        });
        let rows: Vec<CaseRow> = on_pool!(self, pool => {
            sqlx::query_as(CASE_SELECT)
                .bind(status)
                .bind(filter.lsm)
                .bind(filter.id)
                .bind(filter.before)
                .bind(filter.pattern)
                .bind(i64::from(filter.limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(DisputeCase {
                    id: r.id,
                    chat_id: r.chat_id,
                    job_id: r.job_id,
                    job_title: r.job_title,
                    job_status: job_status(&r.job_status, r.job_confirmed)?,
                    status: DisputeStatus::parse(&r.status).unwrap_or(DisputeStatus::Open),
                    opened_at: r.opened_at,
                    raised_by: UserRef {
                        id: r.raised_by_id,
                        name: r.raised_by_name,
                    },
                    reason: r.reason,
                    lsm: UserRef {
                        id: r.lsm_id,
                        name: r.lsm_name,
                    },
                    customer: UserRef {
                        id: r.customer_id,
                        name: r.customer_name,
                    },
                    provider: UserRef {
                        id: r.provider_id,
                        name: r.provider_name,
                    },
                    last_activity_at: r.last_activity_at,
                    outcome: r.outcome.as_deref().and_then(Outcome::parse),
                    refund_cents: r.refund_cents,
                    note: r.note,
                    resolved_at: r.resolved_at,
                    currency: r.currency.unwrap_or_else(|| currency.to_owned()),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn patterns_match_words_literally() {
        assert_eq!(like_pattern("Roof"), "%roof%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
