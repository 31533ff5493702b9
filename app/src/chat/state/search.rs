//! Searching the messages (`search_messages`) and opening a hit: its
//! chat's window opens and reads older pages until the message is in it
//! (at most `MAX_JUMP_PAGES`), then the window scrolls to it and says so
//! with `Jumped`.

use super::msg::{Call, Effect, Env};
use super::store::{Jump, Search, State, session_ended};
use super::{rooms, windows};
use crate::error::AppError;
use crate::model::{ChatId, MessageId, SearchHit, SearchRequest, Seq};

/// Hits per page.
pub const PER_PAGE: i64 = 20;
/// The server's deepest offset (`service::search::MAX_OFFSET`).
pub const MAX_OFFSET: i64 = 200;
/// Older pages a window reads to reach a hit (50 messages each).
pub const MAX_JUMP_PAGES: u32 = 20;

fn request(fx: &mut Vec<Effect>, query: &str, offset: i64) {
    fx.push(Effect::Call(Call::Search(SearchRequest {
        q: query.to_owned(),
        limit: Some(PER_PAGE),
        offset: (offset > 0).then_some(offset),
    })));
}

/// The user asked; an empty query goes back to the chat list.
pub fn start(s: &mut State, fx: &mut Vec<Effect>, query: String) {
    let query = query.trim().to_owned();
    if query.is_empty() {
        s.search = None;
        return;
    }
    request(fx, &query, 0);
    s.search = Some(Search {
        query,
        loading: true,
        ..Search::default()
    });
}

/// "More results".
pub fn more(s: &mut State, fx: &mut Vec<Effect>) {
    if let Some(search) = s.search.as_mut().filter(|x| x.more && !x.loading) {
        search.loading = true;
        request(fx, &search.query, search.hits.len() as i64);
    }
}

/// A page of hits (or the refusal) for `query` from `offset`; one for a
/// query no longer shown is dropped.
pub fn answered(
    s: &mut State,
    fx: &mut Vec<Effect>,
    (query, offset): (String, i64),
    result: Result<Vec<SearchHit>, AppError>,
) {
    let Some(search) = s.search.as_mut().filter(|x| x.query == query) else {
        return;
    };
    search.loading = false;
    match result {
        Ok(hits) => {
            let full = hits.len() as i64 == PER_PAGE;
            if offset == 0 {
                search.hits = hits;
            } else {
                search.hits.extend(hits);
            }
            search.more = full && (search.hits.len() as i64) <= MAX_OFFSET;
            search.error = None;
        }
        Err(e) => {
            // The refusal shows in the results (not also as a toast); an
            // ended session still leads to the sign-in page.
            search.error = Some(e.message.clone());
            session_ended(fx, &e);
        }
    }
}

/// The user opened a hit.
pub fn jump_to(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat_id, message_id, seq): (ChatId, MessageId, Seq),
) {
    s.jump = Some(Jump {
        chat_id,
        message_id,
        seq,
        pages: 0,
    });
    windows::open(s, env, fx, chat_id);
    reach(s, fx);
}

/// Reads the page before the window's oldest message while the hit is
/// older than it (called again as each page arrives).
pub fn reach(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(jump) = s.jump else { return };
    let Some(th) = s.threads.get(&jump.chat_id).filter(|th| th.loaded) else {
        // Its newest page is on its way; this runs again when it comes.
        return;
    };
    if th.first_seq().is_none_or(|first| first <= jump.seq) {
        // In the window: the view scrolls to it.
        return;
    }
    if th.loading_older {
        return;
    }
    if th.has_older && jump.pages < MAX_JUMP_PAGES {
        rooms::load_older(s, fx, jump.chat_id);
        if let Some(j) = s.jump.as_mut() {
            j.pages += 1;
        }
    } else {
        s.jump = None;
        s.toast = Some(
            "That message is too far back to open here; scroll up in the chat to find it.".into(),
        );
    }
}

/// The window scrolled to the hit.
pub fn jumped(s: &mut State, chat: ChatId) {
    if s.jump.is_some_and(|j| j.chat_id == chat) {
        s.jump = None;
    }
}
