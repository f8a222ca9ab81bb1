//! Identifier newtypes: a `DeviceId` can never be passed where a `UserId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<i64>().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
    };
}

id_newtype!(
    /// A device (one enrolled piece of hardware).
    DeviceId
);
id_newtype!(
    /// A user account on the server.
    UserId
);
id_newtype!(
    /// An enrollment token (admin-made, used only at `/enroll`).
    EnrollmentTokenId
);
id_newtype!(
    /// A long-lived API token for scripts.
    ApiTokenId
);
id_newtype!(
    /// One entry of a device's event history.
    EventId
);
