//! rt-core: the vocabulary that rt-server, rt-agent and rt-tui share.
//!
//! Pure by design: domain types, wire protocol v1, validation, health rules, forecasting and
//! export columns. No async runtime, no HTTP, no database, no filesystem or network access, so
//! that every rule here is tested fast and the three binaries agree by construction.

pub mod alert;
pub mod api;
#[cfg(feature = "credstore")]
pub mod credstore;
pub mod error;
pub mod export;
pub mod forecast;
pub mod health;
pub mod ids;
pub mod inventory;
pub mod lifecycle;
pub mod role;
pub mod sample;
pub mod validate;

pub use error::{ApiError, ErrorBody};
pub use health::HealthPolicy;
pub use ids::{ApiTokenId, DeviceId, EnrollmentTokenId, EventId, UserId};
pub use inventory::{DiskInventory, Inventory, is_placeholder_serial};
pub use lifecycle::{LifecycleState, TransitionError};
pub use role::Role;
pub use sample::Sample;
pub use validate::{Problem, Validate};

/// Version of the wire protocol spoken under `/api/v1`.
pub const PROTOCOL_VERSION: u32 = 1;
