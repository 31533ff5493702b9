//! The REST bodies loadgen sends and reads that the contract does not hold.
//!
//! What both sides share comes from `contract::model`: `Registration`,
//! `NewJob` and `Booking`, `PageRequest` and `MessagePage` of history, the
//! `User` in a session. These two are the server's own request and response
//! shapes (`LoginRequest`, `SessionResponse` in
//! `server/src/http/accounts.rs`), which live only in the server crate:
//! loadgen cannot depend on it, so they are written out here, field for
//! field, in one place.

use contract::model::User;
use serde::{Deserialize, Serialize};

/// `POST /api/auth/login` (`LoginRequest`).
#[derive(Debug, Serialize)]
pub struct Login<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

/// What sign-up and sign-in answer (`SessionResponse`).
#[derive(Debug, Deserialize)]
pub struct Session {
    /// A JWT for `Authorization: Bearer …` and the socket handshake.
    pub token: String,
    pub user: User,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The keys the server's handlers read (its structs are not reachable
    /// from here, so their wire names are checked by hand).
    #[test]
    fn bodies_have_the_servers_field_names() {
        let session: Session = serde_json::from_value(json!({
            "token": "t.j.w",
            "user": { "id": 9, "name": "A", "role": "customer", "email": "a@b.test" },
        }))
        .expect("decodes");
        assert_eq!((session.token.as_str(), session.user.id), ("t.j.w", 9));
        let login = Login {
            email: "a@b.test",
            password: "pw",
        };
        assert_eq!(
            serde_json::to_value(login).expect("serialises"),
            json!({ "email": "a@b.test", "password": "pw" })
        );
    }
}
