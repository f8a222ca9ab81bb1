//! Domain types as database columns: newtypes over the rt-core enums (and the store's own
//! token kind) with diesel `ToSql`/`FromSql` for `Text`, as vaultwarden's newtypes do, so rows
//! carry a `LifecycleState` rather than a string compared here and there. rt-core stays free of
//! diesel; the wrappers live here.
//!
//! Reading a value that is not one of the type's names is an error naming the column and the
//! value (`devices.lifecycle_state holds "stolen", which is not a lifecycle state`), never a
//! silent default: a row like that was written by something other than this server (a newer
//! version, a hand edit) and must not be misread as, say, `in_stock`.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};
use rt_core::api::EventKind;
use rt_core::{LifecycleState, Role};

/// A value stored as one of a fixed set of names.
pub trait StoredName: Sized + Copy {
    /// `table.column` the wrapper is used for, and what the value is, for error messages.
    const COLUMN: &'static str;
    const WHAT: &'static str;
    fn name(self) -> &'static str;
    fn from_name(s: &str) -> Option<Self>;
}

/// Kinds of the tokens in `user_tokens` (device and enrollment tokens have tables of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserTokenKind {
    /// From a login; expires.
    Session,
    /// Long-lived, for scripts.
    Api,
}

impl UserTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserTokenKind::Session => "session",
            UserTokenKind::Api => "api",
        }
    }
}

impl StoredName for LifecycleState {
    const COLUMN: &'static str = "devices.lifecycle_state";
    const WHAT: &'static str = "a lifecycle state";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl StoredName for Role {
    const COLUMN: &'static str = "users.role";
    const WHAT: &'static str = "a role";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl StoredName for EventKind {
    const COLUMN: &'static str = "events.kind";
    const WHAT: &'static str = "an event kind";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(s: &str) -> Option<Self> {
        // The stored names are the serde names (`as_str` agrees; tested below).
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

impl StoredName for UserTokenKind {
    const COLUMN: &'static str = "user_tokens.kind";
    const WHAT: &'static str = "a user token kind";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(s: &str) -> Option<Self> {
        [UserTokenKind::Session, UserTokenKind::Api]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

fn read<T: StoredName>(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<T> {
    let s = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
    T::from_name(&s)
        .ok_or_else(|| format!("{} holds {s:?}, which is not {}", T::COLUMN, T::WHAT).into())
}

macro_rules! text_column {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub struct $name(pub $inner);

        impl ToSql<Text, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.0.name());
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $name {
            fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                read::<$inner>(value).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0.name())
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }
    };
}

text_column!(
    /// `devices.lifecycle_state`.
    DbLifecycle(LifecycleState)
);
text_column!(
    /// `users.role`.
    DbRole(Role)
);
text_column!(
    /// `events.kind`.
    DbEventKind(EventKind)
);
text_column!(
    /// `user_tokens.kind`.
    DbUserTokenKind(UserTokenKind)
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_reads_back_under_its_stored_name() {
        let all = [
            EventKind::Enrolled,
            EventKind::ReEnrolled,
            EventKind::Renamed,
            EventKind::Assigned,
            EventKind::Unassigned,
            EventKind::LifecycleChanged,
            EventKind::AssetTagChanged,
            EventKind::NotesChanged,
            EventKind::TokenRevoked,
            EventKind::SampleConflict,
            EventKind::SamplesMissing,
            EventKind::AlertRaised,
            EventKind::AlertCleared,
            EventKind::AlertFiring,
            EventKind::AlertResolved,
            EventKind::AlertSeverityChanged,
            EventKind::AlertFlappingStarted,
            EventKind::AlertFlappingStopped,
            EventKind::AlertAcknowledged,
            EventKind::AlertSilenced,
        ];
        for k in all {
            assert_eq!(EventKind::from_name(k.name()), Some(k), "{k:?}");
        }
        for s in LifecycleState::ALL {
            assert_eq!(LifecycleState::from_name(s.name()), Some(s));
        }
        for r in Role::ALL {
            assert_eq!(Role::from_name(r.name()), Some(r));
        }
        assert_eq!(LifecycleState::from_name("stolen"), None);
        assert_eq!(UserTokenKind::from_name("device"), None);
    }
}
