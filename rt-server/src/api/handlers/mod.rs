//! Request handlers, one file per area. Each returns `Result<Response, ApiError>`; the route
//! turns an error into its JSON body (no rejections past authentication, so an error in a
//! handler never falls through to another route).

pub mod account;
pub mod alerts;
pub mod devices;
pub mod enroll;
pub mod export;
pub mod ops;
pub mod telemetry;
