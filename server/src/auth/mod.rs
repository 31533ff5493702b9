//! Authentication: JWT sessions, argon2id password hashes, how the session
//! token travels (bearer header or HttpOnly cookie), and which page origins
//! may use the cookie (`origin`).

mod jwt;
pub mod origin;
mod password;
pub mod session;
mod strength;
mod unsubscribe;

pub use jwt::{AUDIENCE, Claims, ISSUER, JwtError, Keys};
pub use origin::{OriginPolicy, has_bearer};
pub use password::{hash_password, hash_slots, most_hashes_at_once, verify_password};
pub use session::{DEV_SESSION_COOKIE, SECURE_SESSION_COOKIE, SessionCookie, cookie_value};
pub use strength::{MIN_SCORE, MIN_SCORE_LSM, check_strength, min_score};
pub use unsubscribe::UnsubscribeKey;
