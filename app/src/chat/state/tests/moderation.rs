//! The moderation queue's live reloads (an LSM's moderation page tracks
//! `moderation_rev`) and the dispute console's (`disputes_rev`).

use super::*;

fn lsm_state() -> State {
    State::new(
        Some(Me {
            id: ME,
            name: "Lena".into(),
            role: Role::Lsm,
        }),
        Vec::new(),
    )
}

#[test]
fn a_moderation_event_moves_the_revision_and_asks_for_nothing_else() {
    let mut s = lsm_state();
    assert_eq!(s.moderation_rev, 0);
    let fx = update(&mut s, &env(true), Msg::ModerationChanged);
    assert_eq!(s.moderation_rev, 1);
    assert!(fx.is_empty(), "the page's resources reload, not the state");
    update(&mut s, &env(true), Msg::ModerationChanged);
    assert_eq!(s.moderation_rev, 2, "every event reloads");
}

#[test]
fn a_reconnect_reloads_an_lsms_queue_only() {
    let mut s = lsm_state();
    update(&mut s, &env(true), Msg::Connected);
    assert_eq!(
        s.moderation_rev, 1,
        "items filed while away were not pushed"
    );

    let mut customer = state();
    update(&mut customer, &env(true), Msg::Connected);
    assert_eq!(customer.moderation_rev, 0);
}

#[test]
fn a_dispute_case_event_moves_the_console_revision_only() {
    let mut s = lsm_state();
    let fx = update(&mut s, &env(true), Msg::DisputesChanged);
    assert_eq!(s.disputes_rev, 1);
    assert_eq!(s.moderation_rev, 0, "the moderation queue stays");
    assert!(
        fx.is_empty(),
        "the console's resources reload, not the state"
    );
}

#[test]
fn a_reconnect_reloads_an_lsms_console_too() {
    let mut s = lsm_state();
    update(&mut s, &env(true), Msg::Connected);
    assert_eq!(
        s.disputes_rev, 1,
        "cases changed while away were not pushed"
    );

    let mut customer = state();
    update(&mut customer, &env(true), Msg::Connected);
    assert_eq!(customer.disputes_rev, 0);
}
