//! Admission gates: the server-wide bounds that keep a burst of requests (or an attacker) from
//! exhausting memory or the blocking thread pool. Each gate answers at once or after a short,
//! bounded wait; a request that cannot get in is refused with a JSON 503/429, never queued
//! without limit.
//!
//! - telemetry bodies: their bytes are taken from one in-flight budget while they are read;
//! - telemetry decoding: a few batches at a time (decoding is CPU work on a blocking thread);
//! - exports: a total and a per-user number of exports streaming at once.

use crate::api::error::ApiError;
use crate::config::Limits;
use rt_core::error::codes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warp::http::StatusCode;

/// Telemetry batches decoded at once. Decoding is CPU-bound: more than the cores of a small
/// server adds memory, not throughput.
pub const DECODE_SLOTS: usize = 2;
/// How long a request waits for a decode slot or its first body bytes before 503.
const ADMISSION_WAIT: Duration = Duration::from_secs(10);
/// Body bytes reserved before the first chunk arrives (covers a typical gzip batch).
const FIRST_RESERVATION: usize = 64 * 1024;

#[derive(Debug)]
pub struct Gates {
    body_bytes: Arc<Semaphore>,
    decode: Arc<Semaphore>,
    exports: Arc<Semaphore>,
    exports_by_user: Arc<Mutex<HashMap<i64, usize>>>,
    max_exports_per_user: usize,
}

impl Gates {
    pub fn new(limits: &Limits) -> Gates {
        Gates {
            body_bytes: Arc::new(Semaphore::new(limits.max_inflight_body_bytes.max(1))),
            decode: Arc::new(Semaphore::new(DECODE_SLOTS)),
            exports: Arc::new(Semaphore::new(limits.max_exports.max(1))),
            exports_by_user: Arc::new(Mutex::new(HashMap::new())),
            max_exports_per_user: limits.max_exports_per_user.max(1),
        }
    }

    /// Reserve the first bytes of a telemetry body (waits a little when the budget is used up).
    pub async fn body_reservation(&self) -> Result<BodyReservation, ApiError> {
        let n = u32::try_from(FIRST_RESERVATION).unwrap_or(u32::MAX);
        match tokio::time::timeout(
            ADMISSION_WAIT,
            self.body_bytes.clone().acquire_many_owned(n),
        )
        .await
        {
            Ok(Ok(permit)) => Ok(BodyReservation {
                permit,
                budget: self.body_bytes.clone(),
            }),
            _ => Err(busy("the server is receiving too much telemetry at once")),
        }
    }

    /// A slot to decode one telemetry batch.
    pub async fn decode_slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(ADMISSION_WAIT, self.decode.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(busy("the server is decoding too much telemetry at once")),
        }
    }

    /// A slot for one export of `user`: refused at once (429) when the user already runs their
    /// share, or (503) when the server runs its total.
    pub fn export_slot(&self, user: i64) -> Result<ExportSlot, ApiError> {
        let mut by_user = self
            .exports_by_user
            .lock()
            .map_err(|_| ApiError::internal())?;
        let running = by_user.get(&user).copied().unwrap_or(0);
        if running >= self.max_exports_per_user {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::TOO_MANY_REQUESTS,
                format!(
                    "you already run {running} exports; wait for one to finish (at most {} at once)",
                    self.max_exports_per_user
                ),
            );
            e.retry_after = Some(10);
            return Err(e);
        }
        let permit = self
            .exports
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy("the server runs as many exports as it can; retry shortly"))?;
        by_user.insert(user, running + 1);
        Ok(ExportSlot {
            _permit: permit,
            user,
            by_user: self.exports_by_user.clone(),
        })
    }
}

fn busy(message: &str) -> ApiError {
    ApiError::unavailable(format!("{message}; retry shortly"))
}

/// Bytes of the in-flight body budget held by one request; grows as its body arrives and is
/// given back when dropped.
#[derive(Debug)]
pub struct BodyReservation {
    permit: OwnedSemaphorePermit,
    budget: Arc<Semaphore>,
}

impl BodyReservation {
    /// Make sure `total` bytes are reserved. Never waits: while holding bytes, waiting for more
    /// could let every request wait on the others.
    pub fn grow_to(&mut self, total: usize) -> Result<(), ApiError> {
        let have = self.permit.num_permits();
        if total <= have {
            return Ok(());
        }
        let more = u32::try_from(total - have)
            .map_err(|_| ApiError::too_large("request body too large"))?;
        let extra = self
            .budget
            .clone()
            .try_acquire_many_owned(more)
            .map_err(|_| busy("the server is receiving too much telemetry at once"))?;
        self.permit.merge(extra);
        Ok(())
    }
}

/// One running export; the per-user count goes down when it is dropped (when the response
/// body ends, fails or the client goes away).
#[derive(Debug)]
pub struct ExportSlot {
    _permit: OwnedSemaphorePermit,
    user: i64,
    by_user: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.by_user.lock()
            && let Some(n) = m.get_mut(&self.user)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_bounded_per_user_and_in_total() {
        let limits = Limits {
            max_exports: 3,
            max_exports_per_user: 2,
            ..Limits::default()
        };
        let g = Gates::new(&limits);
        let a1 = g.export_slot(1).unwrap();
        let _a2 = g.export_slot(1).unwrap();
        assert_eq!(
            g.export_slot(1).unwrap_err().status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let _b1 = g.export_slot(2).unwrap();
        assert_eq!(
            g.export_slot(3).unwrap_err().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        drop(a1);
        assert!(g.export_slot(3).is_ok());
    }

    #[tokio::test]
    async fn body_budget_refuses_growth_beyond_the_total() {
        let limits = Limits {
            max_inflight_body_bytes: 256 * 1024,
            ..Limits::default()
        };
        let g = Gates::new(&limits);
        let mut a = g.body_reservation().await.unwrap();
        a.grow_to(150 * 1024).unwrap();
        let mut b = g.body_reservation().await.unwrap();
        assert_eq!(
            b.grow_to(120 * 1024).unwrap_err().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        drop(a);
        b.grow_to(120 * 1024).unwrap();
    }
}
