//! Demo data for development: on an empty database, five accounts and one
//! booked job with a short conversation, so the app is alive on first open.
//! Never runs in production (`Application::build` checks).

use crate::service::{AuthUser, Send, Service};
use contract::model::Role;
use contract::validate::{ClientId, Description, Email, MessageText, Name, Password, Title};

/// Every demo account's password (listed in README).
pub const DEMO_PASSWORD: &str = "demo-password";

/// (email, name, role) of the demo accounts.
pub const DEMO_USERS: [(&str, &str, Role); 5] = [
    ("alice@demo.test", "Alice Customer", Role::Customer),
    ("carol@demo.test", "Carol Customer", Role::Customer),
    ("bob@demo.test", "Bob Plumber", Role::Provider),
    ("dave@demo.test", "Dave Electrician", Role::Provider),
    ("lena@demo.test", "Lena Manager", Role::Lsm),
];

pub async fn seed_demo_data(service: &Service) -> anyhow::Result<()> {
    if service.has_accounts().await? {
        return Ok(());
    }
    tracing::info!("empty database: seeding demo accounts (password {DEMO_PASSWORD:?})");
    let password = Password::parse(DEMO_PASSWORD)?;
    let mut users = Vec::new();
    for (email, name, role) in DEMO_USERS {
        let user = service
            .create_demo_user(&Email::parse(email)?, &password, &Name::parse(name)?, role)
            .await?;
        users.push(AuthUser {
            id: user.id,
            role: user.role,
            name: user.name,
        });
    }
    let (alice, bob) = (&users[0], &users[2]);
    let booked = service
        .book_job(
            alice,
            bob.id,
            Title::parse("Fix the kitchen sink")?,
            Description::parse(Some("The tap drips and the drain is slow."))?,
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .await?;
    let lines = [
        (
            alice,
            "Hi Bob, thanks for taking the job. Can you come on Thursday?",
        ),
        (bob, "Hi Alice! Thursday at 10:00 works for me."),
        (alice, "Perfect, see you then."),
    ];
    for (i, (who, text)) in lines.into_iter().enumerate() {
        let sent = service
            .post_message(
                who,
                booked.chat_id,
                Send::text(
                    MessageText::parse(text)?,
                    ClientId::parse(&format!("seed-{i}"))?,
                ),
            )
            .await?;
        // Each answered the other, so each has read what came before;
        // the last line is unread for its addressee (Bob).
        service.mark_read(who, booked.chat_id, sent.id).await?;
    }
    Ok(())
}
