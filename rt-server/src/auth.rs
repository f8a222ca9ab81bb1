//! Secrets: token generation and hashing, argon2id passwords, and login throttling.
//!
//! Tokens are 32 random bytes, base64url without padding, behind a prefix that names their
//! kind (`rts_` session, `rta_` API, `rtd_` device, `rte_` enrollment) so a leaked token is
//! recognisable and routed to the right table without a guess. Only the SHA-256 of a token is
//! stored; the token itself is shown once.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a bearer token is, judged by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Api,
    Device,
    Enrollment,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "rts_",
            TokenKind::Api => "rta_",
            TokenKind::Device => "rtd_",
            TokenKind::Enrollment => "rte_",
        }
    }

    /// The kind of `token`, or None when it carries no known prefix.
    pub fn of(token: &str) -> Option<TokenKind> {
        [
            TokenKind::Session,
            TokenKind::Api,
            TokenKind::Device,
            TokenKind::Enrollment,
        ]
        .into_iter()
        .find(|k| token.starts_with(k.prefix()))
    }
}

/// A new random token of `kind` (256 bits of entropy).
pub fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{}{}",
        kind.prefix(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 of a token, hex: what the database stores. Tokens are high-entropy, so a fast hash
/// is enough (no password hashing needed).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// SHA-256 hex of arbitrary bytes (sample payload hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub const PASSWORD_MIN_LEN: usize = 8;
pub const PASSWORD_MAX_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {PASSWORD_MIN_LEN} characters")]
    TooShort,
    #[error("password must be at most {PASSWORD_MAX_LEN} characters")]
    TooLong,
    #[error("password hashing failed")]
    Hash,
}

/// Check the password policy.
pub fn check_password_policy(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if password.len() > PASSWORD_MAX_LEN {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// argon2id hash (PHC string) of `password`, after the policy check.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_password_policy(password)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > PASSWORD_MAX_LEN {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spend the time of one verification when the user does not exist, so that response times do
/// not tell which user names exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(h) = DUMMY.get_or_init(|| hash_password("dummy-password-never-matches").ok()) {
        let _ = verify_password(password, h);
    }
}

/// Failed-login throttle per client address and per user name (sliding window, in memory).
/// A restart forgets it; that is acceptable for a brute-force brake.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    max_per_user: u32,
    max_per_addr: u32,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(Duration::from_secs(15 * 60), 10, 50)
    }
}

impl LoginThrottle {
    pub fn new(window: Duration, max_per_user: u32, max_per_addr: u32) -> Self {
        LoginThrottle {
            window,
            max_per_user,
            max_per_addr,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(addr: Option<IpAddr>, username: &str) -> (String, String) {
        let addr = addr.map_or_else(|| "unknown".to_string(), |a| a.to_string());
        (
            format!("addr:{addr}"),
            format!("user:{}", username.trim().to_lowercase()),
        )
    }

    /// Seconds to wait when this client or this user name is locked out right now.
    pub fn check(&self, addr: Option<IpAddr>, username: &str) -> Option<u64> {
        let (ka, ku) = Self::keys(addr, username);
        let now = Instant::now();
        let map = self.failures.lock().ok()?;
        let blocked = |key: &str, max: u32| {
            map.get(key).and_then(|(n, start)| {
                let elapsed = now.duration_since(*start);
                (*n >= max && elapsed < self.window)
                    .then(|| (self.window - elapsed).as_secs().max(1))
            })
        };
        blocked(&ku, self.max_per_user).or_else(|| blocked(&ka, self.max_per_addr))
    }

    pub fn record_failure(&self, addr: Option<IpAddr>, username: &str) {
        let (ka, ku) = Self::keys(addr, username);
        let now = Instant::now();
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let window = self.window;
                map.retain(|_, (_, start)| now.duration_since(*start) < window);
            }
            for k in [ka, ku] {
                let e = map.entry(k).or_insert((0, now));
                if now.duration_since(e.1) >= self.window {
                    *e = (0, now);
                }
                e.0 += 1;
            }
        }
    }

    pub fn record_success(&self, username: &str) {
        let (_, ku) = Self::keys(None, username);
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&ku);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_stably() {
        let a = new_token(TokenKind::Device);
        let b = new_token(TokenKind::Device);
        assert!(a.starts_with("rtd_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(TokenKind::of(&a), Some(TokenKind::Device));
        assert_eq!(TokenKind::of("nope"), None);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }

    #[test]
    fn throttle_locks_a_user_name_after_repeated_failures() {
        let t = LoginThrottle::new(Duration::from_secs(60), 3, 100);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(Some(ip), "alice").is_none());
            t.record_failure(Some(ip), "alice");
        }
        assert!(t.check(Some(ip), "alice").is_some());
        assert!(t.check(Some(ip), "bob").is_none());
        t.record_success("alice");
        assert!(t.check(Some(ip), "alice").is_none());
    }
}
