//! Passwords: argon2id with the crate's recommended parameters, off the async runtime.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use balagh_domain::account::NewPassword;

/// A PHC string (`$argon2id$v=19$…`) for a new password.
pub async fn hash(password: &NewPassword) -> Result<String, String> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A hash that no password matches, verified when the account does not exist so that the
/// answer takes as long either way (no account enumeration by timing).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2u0Hc3yN5p5pfyyHhO7bD2H0KbYpFfG2c6ExSq0nV9c";

/// Whether `candidate` matches the stored hash (or, with `None`, spends the same effort).
pub async fn verify(candidate: &str, stored: Option<String>) -> bool {
    let candidate = candidate.to_owned();
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        ok && exists
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let p = NewPassword::parse("a long enough passphrase").unwrap();
        let h1 = hash(&p).await.unwrap();
        let h2 = hash(&p).await.unwrap();
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        assert!(verify("a long enough passphrase", Some(h1.clone())).await);
        assert!(!verify("a long enough passphrasE", Some(h1)).await);
        assert!(!verify("anything", None).await);
    }
}
