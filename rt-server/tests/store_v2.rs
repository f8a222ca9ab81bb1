//! Store v2: the in-place upgrade of a database written by the v1 store, and the compact rows
//! (full samples rebuilt from them, size per sample).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use flate2::read::GzDecoder;
use rt_core::Sample;
use rt_server::store::{Store, samples};
use rt_server::testing::TestServer;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

fn gunzip(path: &str) -> Vec<u8> {
    let gz = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture");
    let mut out = Vec::new();
    GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .expect("fixture gunzip");
    out
}

#[derive(QueryableByName)]
struct V1 {
    #[diesel(sql_type = BigInt)]
    device_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    payload: String,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(c).expect(sql).n
}

#[tokio::test]
async fn v1_database_upgrades_in_place_losslessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("rt.db");
    std::fs::write(&db, gunzip("tests/fixtures/v1.db.gz")).expect("write fixture");
    let db_url = db.to_string_lossy().into_owned();

    // What the v1 store holds, read with plain SQL before the upgrade.
    let mut c = SqliteConnection::establish(&db_url).expect("open v1");
    let v1: Vec<V1> = diesel::sql_query("SELECT device_id, seq, payload FROM samples")
        .load(&mut c)
        .expect("v1 samples");
    let events_before = count(&mut c, "SELECT COUNT(*) AS n FROM events");
    let devices_before = count(&mut c, "SELECT COUNT(*) AS n FROM devices");
    let users_before = count(&mut c, "SELECT COUNT(*) AS n FROM users");
    drop(c);
    assert_eq!(v1.len(), 768, "fixture holds 768 v1 samples");

    // The real server start upgrades it.
    let s = TestServer::start_in(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server starts on the v1 database");

    let store = Store::open(&db_url).expect("open upgraded");
    let mut c = store.connect().expect("connect");
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'samples_v1'"
        ),
        0,
        "the v1 table is gone once converted"
    );
    assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM store_tasks"), 0);
    assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM samples"), 768);
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM events"),
        events_before
    );
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM devices"),
        devices_before
    );
    // The test server adds its admin only if missing: the v1 admin is still there.
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM users"),
        users_before
    );

    // Every sample rebuilds to exactly what v1 stored.
    for r in &v1 {
        let want: Sample = serde_json::from_str(&r.payload).expect("v1 payload");
        let got = samples::get(&mut c, r.device_id, r.seq)
            .expect("read")
            .expect("stored");
        assert_eq!(got, want, "device {} seq {}", r.device_id, r.seq);
        assert_eq!(
            serde_json::to_string(&got).expect("json"),
            r.payload,
            "canonical JSON unchanged"
        );
    }
    assert_eq!(samples::max_seq(&mut c, 2).expect("max"), Some(192));

    // The export answers the same rows as the v1 server did.
    let body = reqwest::Client::new()
        .get(format!("{}/api/v1/export/samples?format=ndjson", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let key = |l: &str| -> (i64, i64) {
        let v: serde_json::Value = serde_json::from_str(l).expect("ndjson line");
        (
            v["device_id"].as_i64().expect("device_id"),
            v["seq"].as_i64().expect("seq"),
        )
    };
    let got: BTreeMap<(i64, i64), String> = body.lines().map(|l| (key(l), l.to_string())).collect();
    let want_text = String::from_utf8(gunzip("tests/fixtures/v1-samples.ndjson.gz")).expect("utf8");
    let want: BTreeMap<(i64, i64), String> =
        want_text.lines().map(|l| (key(l), l.to_string())).collect();
    assert_eq!(got.len(), 768);
    assert_eq!(got, want);
    s.stop().await;
}
