//! Authentication: JWT sessions and argon2id password hashes.

mod jwt;
mod password;

pub use jwt::{Claims, JwtError, Keys};
pub use password::{hash_password, verify_password};
