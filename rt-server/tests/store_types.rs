//! Domain types in the store (`store::types`): a stored value that is not one of its type's
//! names is an error naming the column and the value, never read as some default (an unknown
//! lifecycle state used to read as `in_stock`, an unknown role as `viewer`).
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use diesel::prelude::*;
use rt_core::api::EventKind;
use rt_core::{Inventory, LifecycleState, Role};
use rt_server::store::devices::{self, EnrollInput, EnrollOutcome};
use rt_server::store::{Store, StoreError, events, users};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("rt.db").to_string_lossy()).unwrap();
    (dir, store)
}

fn sql(store: &Store, q: &str) {
    store
        .run_sync(|c| -> Result<usize, StoreError> { Ok(diesel::sql_query(q).execute(c)?) })
        .unwrap();
}

/// What the server logs for a store error.
fn message(e: StoreError) -> String {
    e.to_string()
}

#[test]
fn unknown_stored_names_are_errors_that_name_the_column_and_the_value() {
    let (_dir, store) = store();
    let input = EnrollInput {
        inventory: Inventory {
            hostname: "typed".into(),
            machine_id: Some("mid-typed".into()),
            ..Default::default()
        },
        device_name: None,
        asset_tag: None,
        assignee: None,
        actor: "test".into(),
        may_reenroll: false,
    };
    let EnrollOutcome::Enrolled { device_id, .. } = store
        .run_sync(|c| devices::enroll(c, &input, "hash-typed", Utc::now()))
        .unwrap()
    else {
        panic!("not enrolled");
    };
    let admin = store
        .run_sync(|c| users::create(c, "typed-admin", "x", Role::Admin, Utc::now()))
        .unwrap()
        .unwrap();
    store
        .run_sync(|c| {
            users::insert_token(
                c,
                admin.id,
                users::UserTokenKind::Api,
                "t",
                "tok-hash",
                Utc::now(),
                None,
            )
        })
        .unwrap();

    // Written values read back as their types.
    let d = store
        .run_sync(|c| devices::find(c, device_id))
        .unwrap()
        .unwrap();
    assert_eq!(d.lifecycle(), LifecycleState::Deployed);
    let u = store
        .run_sync(|c| users::find_by_id(c, admin.id))
        .unwrap()
        .unwrap();
    assert_eq!(u.role(), Role::Admin);
    let (evs, _) = store
        .run_sync(|c| events::for_device(c, device_id, None, None, 10, 0))
        .unwrap();
    assert_eq!(evs[0].kind.0, EventKind::Enrolled);
    assert_eq!(
        store.run_sync(|c| users::list_api_tokens(c, None)).unwrap()[0]
            .kind
            .0,
        users::UserTokenKind::Api
    );

    // Values this server never writes are refused, naming column and value.
    sql(&store, "UPDATE devices SET lifecycle_state = 'stolen'");
    let e = message(store.run_sync(|c| devices::find(c, device_id)).unwrap_err());
    assert!(
        e.contains("devices.lifecycle_state") && e.contains("\"stolen\""),
        "{e}"
    );
    let e = message(store.run_sync(devices::all).unwrap_err());
    assert!(e.contains("stolen"), "{e}");

    sql(&store, "UPDATE users SET role = 'owner'");
    let e = message(
        store
            .run_sync(|c| users::find_by_id(c, admin.id))
            .unwrap_err(),
    );
    assert!(e.contains("users.role") && e.contains("\"owner\""), "{e}");

    sql(&store, "UPDATE events SET kind = 'exploded'");
    let e = message(
        store
            .run_sync(|c| events::for_device(c, device_id, None, None, 10, 0))
            .unwrap_err(),
    );
    assert!(
        e.contains("events.kind") && e.contains("\"exploded\""),
        "{e}"
    );

    sql(&store, "UPDATE users SET role = 'admin'");
    sql(&store, "UPDATE user_tokens SET kind = 'device'");
    let e = message(
        store
            .run_sync(|c| users::resolve_token(c, "tok-hash", Utc::now()))
            .unwrap_err(),
    );
    assert!(
        e.contains("user_tokens.kind") && e.contains("\"device\""),
        "{e}"
    );
}
