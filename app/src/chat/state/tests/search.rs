//! Searching, and opening a hit in its window.

use super::*;

fn hit(chat: ChatId, seq: Seq) -> crate::model::SearchHit {
    crate::model::SearchHit {
        chat_id: chat,
        job_title: format!("job {chat}"),
        message: message(chat, seq, OTHER),
        highlights: Vec::new(),
    }
}

#[test]
fn searches_page_and_drop_answers_for_an_old_query() {
    let mut s = state();
    let fx = update(&mut s, &env(true), Msg::Search("  sink ".into()));
    assert_eq!(
        fx,
        vec![Effect::Call(Call::Search(crate::model::SearchRequest {
            q: "sink".into(),
            limit: Some(20),
            offset: None,
        }))]
    );
    update(&mut s, &env(true), Msg::Search("tap".into()));
    let answer = |query: &str, offset, n: Seq| {
        Msg::Answered(Answer::Searched {
            query: query.into(),
            offset,
            result: Ok((1..=n).map(|seq| hit(1, seq)).collect()),
        })
    };
    update(&mut s, &env(true), answer("sink", 0, 3));
    let shown = s.search.clone().expect("searching");
    assert!(
        shown.loading && shown.hits.is_empty(),
        "the old query's hits are dropped"
    );
    update(&mut s, &env(true), answer("tap", 0, 20));
    assert!(
        s.search
            .as_ref()
            .is_some_and(|x| x.more && x.hits.len() == 20)
    );
    let fx = update(&mut s, &env(true), Msg::SearchMore);
    assert!(matches!(&fx[..], [Effect::Call(Call::Search(r))] if r.offset == Some(20)));
    update(&mut s, &env(true), answer("tap", 20, 5));
    assert!(
        s.search
            .as_ref()
            .is_some_and(|x| !x.more && x.hits.len() == 25)
    );
    // A refusal shows in the results, not as a toast too.
    update(&mut s, &env(true), Msg::Search("***".into()));
    let refused = AppError::new(ErrorCode::BadRequest, "q: must contain a word");
    update(
        &mut s,
        &env(true),
        Msg::Answered(Answer::Searched {
            query: "***".into(),
            offset: 0,
            result: Err(refused),
        }),
    );
    let shown = s.search.clone().expect("searching");
    assert_eq!(shown.error.as_deref(), Some("q: must contain a word"));
    assert_eq!(s.toast, None);
    update(&mut s, &env(true), Msg::Search(" ".into()));
    assert_eq!(s.search, None, "an empty query shows the list again");
}

#[test]
fn opening_a_hit_reads_older_pages_until_it_is_in_the_window() {
    let mut s = with_open_chat();
    // Seqs 1..=3 are loaded, but the window only holds from seq 3 down to
    // what the page had: make the thread start at 40 with older history.
    s.threads.remove(&1);
    let newest = MessagePage {
        messages: (40..=60).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: true,
    };
    answer_page(&mut s, 1, PageFor::Latest, Ok(newest));
    let fx = update(&mut s, &env(true), Msg::JumpTo(1, 105, 5));
    assert!(fx.contains(&messages_call(1, PageFor::Older(40))));
    assert_eq!(s.jump.map(|j| j.pages), Some(1));
    let older = MessagePage {
        messages: (10..=39).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: true,
    };
    let fx = answer_page(&mut s, 1, PageFor::Older(40), Ok(older));
    assert!(
        fx.contains(&messages_call(1, PageFor::Older(10))),
        "still older"
    );
    let oldest = MessagePage {
        messages: (1..=9).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: false,
    };
    let fx = answer_page(&mut s, 1, PageFor::Older(10), Ok(oldest));
    assert!(fx.is_empty(), "in the window: the view scrolls to it");
    assert!(s.jump.is_some());
    update(&mut s, &env(true), Msg::Jumped(1));
    assert_eq!(s.jump, None);
    // A hit older than anything the server has left: the user is told.
    update(&mut s, &env(true), Msg::JumpTo(1, 100, 0));
    assert_eq!(s.jump, None);
    assert!(
        s.toast
            .as_deref()
            .is_some_and(|t| t.contains("too far back"))
    );
}
