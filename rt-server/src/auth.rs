//! Secrets: token generation and hashing, argon2id passwords, login throttling, and the one
//! password check used by login and enrollment ([`Passwords::check`]).
//!
//! Tokens are 32 random bytes, base64url without padding, behind a prefix that names their
//! kind (`rts_` session, `rta_` API, `rtd_` device, `rte_` enrollment) so a leaked token is
//! recognisable and routed to the right table without a guess. Only the SHA-256 of a token is
//! stored; the token itself is shown once.

use crate::store::users::{self, UserRow};
use crate::store::{Store, StoreError};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

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
    #[error("the server is busy hashing passwords; retry shortly")]
    Busy,
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

/// argon2 working memory (1 KiB blocks). [`Passwords`] keeps one per hashing slot and reuses
/// it, so the ~19 MiB a computation needs is allocated once per slot instead of once per
/// attempt: freed blocks of that size stay in the allocator's per-thread arenas, which is how
/// 64 parallel logins used to take hundreds of MiB.
pub type Memory = Vec<argon2::Block>;

/// A stored hash asking for more argon2 memory than this (KiB) is treated as malformed.
const MAX_M_COST_KIB: u32 = 256 * 1024;

/// Run argon2 into `out`, growing `memory` to the blocks `params` need (never shrinking it).
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> Result<(), argon2::Error> {
    let need = params.block_count();
    if memory.len() < need {
        memory.resize(need, argon2::Block::new());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..need],
    )
}

/// argon2id hash (PHC string) of `password`, after the policy check.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    hash_password_with(password, &mut Memory::new())
}

/// [`hash_password`] with caller-owned working memory.
pub fn hash_password_with(password: &str, memory: &mut Memory) -> Result<String, PasswordError> {
    check_password_policy(password)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt_string = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
        memory,
    )
    .map_err(|_| PasswordError::Hash)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hash)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hash)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    verify_password_with(password, phc, &mut Memory::new())
}

/// [`verify_password`] with caller-owned working memory; the comparison is constant-time.
pub fn verify_password_with(password: &str, phc: &str, memory: &mut Memory) -> bool {
    if password.len() > PASSWORD_MAX_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST_KIB {
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2_into(
        algorithm,
        version,
        params,
        password.as_bytes(),
        salt,
        &mut out,
        memory,
    )
    .is_err()
    {
        return false;
    }
    Output::new(&out).is_ok_and(|o| o == expected)
}

/// A PHC hash with the default argon2id parameters of [`hash_password`] whose password is
/// unknown: verified against when the account does not exist, so that an unknown user name
/// costs exactly the argon2 work of a real one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bd28Y+YWLpSxZExedPCJMA$DzpU4ctHNOQrd99nKeDNb8TOrbTD3xpN/z7x3nI4QZo";

/// How many argon2 computations run at once. Each needs ~19 MiB and a core for ~50 ms; more in
/// parallel only adds memory, not throughput, on a small server.
pub const HASHING_CONCURRENCY: usize = 2;
/// How long a password check waits for a hashing slot before answering 503.
const HASHING_WAIT: Duration = Duration::from_secs(10);

/// Why a password check did not yield an account.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// This client address or user name has used up its failed attempts; seconds to wait.
    #[error("too many failed logins; try again in {0} s")]
    Throttled(u64),
    /// Unknown user, disabled account or wrong password (deliberately not told apart).
    #[error("invalid user name or password")]
    Invalid,
    /// Every hashing slot stayed busy for [`HASHING_WAIT`].
    #[error("the server is busy checking passwords; retry shortly")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one password path: per-address and per-name throttling reserved before any work, and
/// argon2 (verification and hashing) bounded by a small semaphore. Login and enrollment with
/// user credentials both call [`Passwords::check`].
pub struct Passwords {
    throttle: LoginThrottle,
    hashing: Arc<Semaphore>,
    /// One working memory per hashing slot, taken with the slot's permit and given back.
    memory: Arc<Mutex<Vec<Memory>>>,
    verifications: AtomicU64,
}

impl std::fmt::Debug for Passwords {
    // Not derived: the working memories are megabytes of blocks.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("throttle", &self.throttle)
            .field("hashing_slots_free", &self.hashing.available_permits())
            .field("verifications", &self.verifications)
            .finish_non_exhaustive()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Passwords::new(LoginThrottle::default(), HASHING_CONCURRENCY)
    }
}

impl Passwords {
    pub fn new(throttle: LoginThrottle, hashing_slots: usize) -> Self {
        Passwords {
            throttle,
            hashing: Arc::new(Semaphore::new(hashing_slots.max(1))),
            memory: Arc::new(Mutex::new(Vec::new())),
            verifications: AtomicU64::new(0),
        }
    }

    /// The account `username` if `password` is its password and it is enabled.
    ///
    /// A throttle slot is taken first (so parallel attempts cannot exceed the limit); a wrong
    /// answer keeps it, a success gives it back. Unknown, disabled and wrong-password accounts
    /// all cost exactly one argon2 verification, so neither timing nor the answer tells them
    /// apart.
    pub async fn check(
        &self,
        store: &Store,
        addr: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<UserRow, CheckError> {
        self.throttle
            .reserve(addr, username)
            .map_err(CheckError::Throttled)?;
        let outcome = self.check_reserved(store, username, password).await;
        match &outcome {
            Ok(_) => self.throttle.succeeded(addr, username),
            Err(CheckError::Invalid) => {}
            Err(_) => self.throttle.release(addr, username),
        }
        outcome
    }

    async fn check_reserved(
        &self,
        store: &Store,
        username: &str,
        password: &str,
    ) -> Result<UserRow, CheckError> {
        let name = username.to_string();
        let user = store.run(move |c| users::find_by_name(c, &name)).await?;
        let slot = self.hashing_slot().await?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.to_string();
        let (user, matched) = tokio::task::spawn_blocking(move || {
            let mut slot = slot;
            let phc = user
                .as_ref()
                .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
            let matched = verify_password_with(&password, phc, &mut slot.memory);
            (user, matched)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        match user {
            Some(u) if matched && !u.disabled => Ok(u),
            _ => Err(CheckError::Invalid),
        }
    }

    /// argon2id hash of a new password (policy checked), inside a hashing slot.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_password_policy(password)?;
        let slot = self.hashing_slot().await.map_err(|_| PasswordError::Busy)?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let mut slot = slot;
            hash_password_with(&password, &mut slot.memory)
        })
        .await
        .map_err(|_| PasswordError::Hash)?
    }

    async fn hashing_slot(&self) -> Result<HashingSlot, CheckError> {
        match tokio::time::timeout(HASHING_WAIT, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => {
                let memory = self
                    .memory
                    .lock()
                    .map(|mut pool| pool.pop().unwrap_or_default())
                    .unwrap_or_default();
                Ok(HashingSlot {
                    memory,
                    pool: self.memory.clone(),
                    _permit: permit,
                })
            }
            _ => Err(CheckError::Busy),
        }
    }

    /// argon2 verifications done so far (one per check that passed the throttle).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

/// A hashing permit and the working memory that goes with it; the memory goes back to the pool
/// (before the permit is released) when the slot is dropped.
struct HashingSlot {
    memory: Memory,
    pool: Arc<Mutex<Vec<Memory>>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for HashingSlot {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(std::mem::take(&mut self.memory));
        }
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

    /// Take one attempt for this client address and this user name, or say how many seconds
    /// to wait when either has no attempts left. The attempt counts as a failure until
    /// [`succeeded`](Self::succeeded) or [`release`](Self::release) gives it back, so attempts
    /// running in parallel cannot exceed the limit.
    pub fn reserve(&self, addr: Option<IpAddr>, username: &str) -> Result<(), u64> {
        let (ka, ku) = Self::keys(addr, username);
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return Err(self.window.as_secs());
        };
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, start)| now.duration_since(*start) < window);
        }
        let mut wait = None;
        for (key, max) in [(&ku, self.max_per_user), (&ka, self.max_per_addr)] {
            if let Some((n, start)) = map.get(key) {
                let elapsed = now.duration_since(*start);
                if *n >= max && elapsed < self.window {
                    wait = wait.or(Some((self.window - elapsed).as_secs().max(1)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        for k in [ka, ku] {
            let e = map.entry(k).or_insert((0, now));
            if now.duration_since(e.1) >= self.window {
                *e = (0, now);
            }
            e.0 += 1;
        }
        Ok(())
    }

    /// The reserved attempt was right: the user name starts afresh and the address gets its
    /// attempt back.
    pub fn succeeded(&self, addr: Option<IpAddr>, username: &str) {
        let (ka, ku) = Self::keys(addr, username);
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&ku);
            if let Some(e) = map.get_mut(&ka) {
                e.0 = e.0.saturating_sub(1);
            }
        }
    }

    /// The reserved attempt was never judged (database or hashing unavailable): give it back.
    pub fn release(&self, addr: Option<IpAddr>, username: &str) {
        let (ka, ku) = Self::keys(addr, username);
        if let Ok(mut map) = self.failures.lock() {
            for k in [ka, ku] {
                if let Some(e) = map.get_mut(&k) {
                    e.0 = e.0.saturating_sub(1);
                }
            }
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
            assert!(t.reserve(Some(ip), "alice").is_ok());
        }
        assert!(t.reserve(Some(ip), "alice").is_err());
        assert!(t.reserve(Some(ip), "bob").is_ok());
        t.succeeded(Some(ip), "alice");
        assert!(t.reserve(Some(ip), "alice").is_ok());
    }

    #[test]
    fn throttle_reservations_cannot_exceed_the_address_limit() {
        let t = LoginThrottle::new(Duration::from_secs(60), 100, 5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        // Reservations taken before any verdict (as parallel attempts do) still stop at 5.
        let granted = (0..20)
            .filter(|i| t.reserve(Some(ip), &format!("user{i}")).is_ok())
            .count();
        assert_eq!(granted, 5);
        // An attempt that was never judged is given back; a success gives back the address.
        t.release(Some(ip), "user0");
        assert!(t.reserve(Some(ip), "user0").is_ok());
        assert!(t.reserve(Some(ip), "user99").is_err());
        t.succeeded(Some(ip), "user0");
        assert!(t.reserve(Some(ip), "user99").is_ok());
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_hashes() {
        let real = hash_password("correct horse").unwrap();
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("correct horse", DUMMY_HASH));
    }

    #[tokio::test]
    async fn unknown_disabled_and_wrong_passwords_cost_the_same_and_look_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rt.db").to_string_lossy()).unwrap();
        let hash = hash_password("right password").unwrap();
        store
            .run_sync(|c| {
                users::create(c, "alice", &hash, rt_core::Role::Viewer, chrono::Utc::now())?;
                let off =
                    users::create(c, "bob", &hash, rt_core::Role::Viewer, chrono::Utc::now())?
                        .unwrap();
                users::update(c, off.id, None, None, Some(true))
            })
            .unwrap();
        let p = Passwords::new(LoginThrottle::new(Duration::from_secs(60), 100, 100), 1);
        let ip = Some("127.0.0.1".parse().unwrap());
        for (user, pw) in [
            ("nobody", "right password"),
            ("bob", "right password"),
            ("alice", "wrong password"),
        ] {
            let before = p.verifications();
            let r = p.check(&store, ip, user, pw).await;
            assert!(matches!(r, Err(CheckError::Invalid)), "{user}: {r:?}");
            assert_eq!(p.verifications(), before + 1, "{user}");
        }
        let ok = p
            .check(&store, ip, "alice", "right password")
            .await
            .unwrap();
        assert_eq!(ok.username, "alice");
        assert_eq!(p.verifications(), 4);
    }
}
