//! The API client is rt-client's ([`rt_client::api`]), shared with rt-sim; re-exported here so
//! the console's modules name it `crate::client`.

pub use rt_client::api::*;
