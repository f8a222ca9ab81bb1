#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn cfg_small() -> QueueConfig {
    QueueConfig {
        max_bytes: 1 << 30,
        max_age: chrono::Duration::days(3650),
        segment_bytes: 4096,
        fsync: false,
    }
}

fn payload(seq: u64, len: usize) -> Vec<u8> {
    let mut p = format!("{{\"seq\":{seq},\"pad\":\"").into_bytes();
    p.extend(std::iter::repeat_n(b'x', len));
    p.extend_from_slice(b"\"}");
    p
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

#[test]
fn appended_records_survive_reopen_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for i in 0..50 {
        let seq = q.append_with(now, |s| payload(s, i * 3)).unwrap();
        assert_eq!(seq, i as u64 + 1);
    }
    drop(q);
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    let all = q.peek(usize::MAX, usize::MAX).unwrap();
    assert_eq!(all.len(), 50);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(r.payload, payload(r.seq, i * 3));
    }
    assert!(segment_files(tmp.path()).len() > 1, "small segments rotate");
    assert_eq!(q.next_seq(), 51);
}

#[test]
fn seq_is_never_reused_after_everything_was_acked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    let seqs: Vec<u64> = (0..5)
        .map(|_| q.append_with(Utc::now(), |s| payload(s, 10)).unwrap())
        .collect();
    q.ack(&seqs).unwrap();
    assert!(q.is_empty());
    assert!(
        segment_files(tmp.path()).is_empty(),
        "acked segments are deleted"
    );
    drop(q);
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.append_with(Utc::now(), |s| payload(s, 1)).unwrap(), 6);
}

#[test]
fn a_bit_flip_loses_only_the_damaged_record_and_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..5 {
        q.append_with(Utc::now(), |s| payload(s, 20)).unwrap();
    }
    drop(q);
    let seg = &segment_files(tmp.path())[0];
    let mut data = fs::read(seg).unwrap();
    let rec = record::HEADER_LEN + payload(1, 20).len();
    // Flip a bit inside record 3's payload.
    data[2 * rec + record::HEADER_LEN + 5] ^= 0x04;
    fs::write(seg, &data).unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.seqs(), vec![1, 2, 4, 5]);
    assert_eq!(q.recovery().damaged_records, 1);
    assert_eq!(q.stats().damaged_total, 1);
    // Appending continues after the good records.
    assert_eq!(q.append_with(Utc::now(), |s| payload(s, 1)).unwrap(), 6);
    let all = q.peek(100, usize::MAX).unwrap();
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 4, 5, 6]
    );
}

#[test]
fn a_flipped_length_field_resyncs_on_the_next_record() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..4 {
        q.append_with(Utc::now(), |s| payload(s, 20)).unwrap();
    }
    drop(q);
    let seg = &segment_files(tmp.path())[0];
    let mut data = fs::read(seg).unwrap();
    let rec = record::HEADER_LEN + payload(1, 20).len();
    data[rec + 4] ^= 0x80; // length of record 2
    fs::write(seg, &data).unwrap();
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.seqs(), vec![1, 3, 4]);
}

#[test]
fn a_truncated_tail_keeps_every_complete_record() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..3 {
        q.append_with(Utc::now(), |s| payload(s, 20)).unwrap();
    }
    drop(q);
    let seg = &segment_files(tmp.path())[0];
    let len = fs::metadata(seg).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(seg).unwrap();
    f.set_len(len - 7).unwrap();
    drop(f);
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.seqs(), vec![1, 2]);
    assert!(q.recovery().torn_tail_bytes > 0);
    // Nothing was ever sent, so the lost seq 3 is handed out again (see the high-water test
    // for the case where it may have reached the server).
    let s = q.append_with(Utc::now(), |s| payload(s, 1)).unwrap();
    assert_eq!(s, 3);
    drop(q);
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.seqs(), vec![1, 2, 3]);
}

#[test]
fn high_water_mark_prevents_reuse_of_a_sent_seq_whose_record_was_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..3 {
        q.append_with(Utc::now(), |s| payload(s, 20)).unwrap();
    }
    q.persist_high_water().unwrap(); // done by sync before sending
    drop(q);
    let seg = &segment_files(tmp.path())[0];
    let len = fs::metadata(seg).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(seg).unwrap();
    f.set_len(len - 7).unwrap(); // seq 3 damaged after it may have been sent
    drop(f);
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.append_with(Utc::now(), |s| payload(s, 1)).unwrap(), 4);
}

#[test]
fn full_queue_drops_oldest_and_accounts_for_the_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = QueueConfig {
        max_bytes: 32 * 1024,
        segment_bytes: 4096,
        ..cfg_small()
    };
    let mut q = Queue::open(tmp.path(), cfg.clone()).unwrap();
    let now = Utc::now();
    for _ in 0..400 {
        q.append_with(now, |s| payload(s, 200)).unwrap();
        q.enforce_limits(now).unwrap();
    }
    let st = q.stats();
    assert!(st.bytes <= cfg.max_bytes, "{} bytes on disk", st.bytes);
    assert!(st.dropped_total > 0);
    assert_eq!(
        st.dropped_total + st.depth,
        400,
        "every record is live or counted as dropped"
    );
    assert_eq!(st.dropped_since_upload, st.dropped_total);
    // Oldest dropped first: the live records are the newest, contiguous up to 400.
    let seqs = q.seqs();
    assert_eq!(*seqs.last().unwrap(), 400);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(st.gaps, vec![[1, seqs[0] - 1]]);
    drop(q);
    let q = Queue::open(tmp.path(), cfg).unwrap();
    assert_eq!(
        q.stats().dropped_total,
        st.dropped_total,
        "drop accounting is durable"
    );
    let mut q = q;
    q.note_upload_succeeded().unwrap();
    assert_eq!(q.stats().dropped_since_upload, 0);
    assert_eq!(q.stats().dropped_total, st.dropped_total);
}

#[test]
fn records_older_than_max_age_are_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = QueueConfig {
        max_age: chrono::Duration::days(30),
        ..cfg_small()
    };
    let mut q = Queue::open(tmp.path(), cfg).unwrap();
    let now = Utc::now();
    for d in [40, 35, 31, 29, 1] {
        q.append_with(now - chrono::Duration::days(d), |s| payload(s, 5))
            .unwrap();
    }
    assert_eq!(q.enforce_limits(now).unwrap(), 3);
    assert_eq!(q.seqs(), vec![4, 5]);
    assert_eq!(q.stats().gaps, vec![[1, 3]]);
}

#[cfg(unix)]
#[test]
fn queue_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("queue");
    let mut q = Queue::open(&dir, cfg_small()).unwrap();
    q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    q.ack(&[1]).unwrap();
    let qpath = tmp.path().join("quarantine.ndjson");
    write_quarantine(
        &qpath,
        &[QuarantineEntry {
            seq: 9,
            reason: "bad".into(),
            quarantined_at: Utc::now(),
            sample: serde_json::json!({}),
        }],
    )
    .unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    assert_eq!(mode(&qpath), 0o600);
    assert_eq!(read_quarantine(&qpath)[0].reason, "bad");
}

#[test]
fn a_read_only_view_sees_the_queue_but_cannot_change_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    // The writer still holds the queue; a reader (status, `rt-agent queue`) is not blocked.
    let mut ro = Queue::open_read_only(tmp.path(), cfg_small()).unwrap();
    assert_eq!(ro.stats().depth, 1);
    assert!(ro.append_with(Utc::now(), |s| payload(s, 5)).is_err());
    assert!(ro.ack(&[1]).is_err());
    // A second writer is refused with a message that says why.
    let err = Queue::open_waiting(tmp.path(), cfg_small(), std::time::Duration::ZERO).unwrap_err();
    assert!(
        err.to_string().contains("in use by another rt-agent"),
        "{err}"
    );
    drop(q);
    assert!(Queue::open_waiting(tmp.path(), cfg_small(), std::time::Duration::ZERO).is_ok());
}

#[test]
fn collections_share_one_segment_file() {
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..5 {
        // Each `rt-agent collect` opens the queue, appends one record and exits.
        let mut q = Queue::open(tmp.path(), QueueConfig::default()).unwrap();
        q.append_with(Utc::now(), |s| payload(s, 100)).unwrap();
    }
    assert_eq!(segment_files(tmp.path()).len(), 1);
    let mut q = Queue::open(tmp.path(), QueueConfig::default()).unwrap();
    let seqs: Vec<u64> = q
        .peek(100, usize::MAX)
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
}

#[test]
fn a_deleted_segment_is_counted_as_a_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..40 {
        q.append_with(Utc::now(), |s| payload(s, 200)).unwrap();
    }
    q.persist_high_water().unwrap();
    drop(q);
    let segs = segment_files(tmp.path());
    assert!(segs.len() >= 3);
    // The middle segment disappears (deleted by hand, or unreadable).
    let first_of =
        |p: &PathBuf| -> u64 { p.file_stem().unwrap().to_str().unwrap().parse().unwrap() };
    let (a, b) = (first_of(&segs[1]), first_of(&segs[2]));
    fs::remove_file(&segs[1]).unwrap();
    // A read-only view already reports it.
    let ro = Queue::open_read_only(tmp.path(), cfg_small()).unwrap();
    assert_eq!(ro.stats().lost_total, b - a);
    drop(ro);
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.recovery().lost, vec![[a, b - 1]]);
    let st = q.stats();
    assert_eq!(st.lost_total, b - a);
    assert_eq!(
        st.dropped_since_upload,
        b - a,
        "reported in the self-report"
    );
    assert_eq!(st.gaps, vec![[a, b - 1]]);
    drop(q);
    // Counted once, not on every open.
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert_eq!(q.stats().lost_total, b - a);
    assert!(q.recovery().lost.is_empty());
}

#[test]
fn raising_the_floor_is_not_a_gap_and_new_seqs_start_above_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    q.append_with(Utc::now(), |s| payload(s, 1)).unwrap();
    q.raise_next_seq(100).unwrap();
    assert_eq!(q.append_with(Utc::now(), |s| payload(s, 1)).unwrap(), 101);
    q.raise_next_seq(50).unwrap(); // never lowers
    assert_eq!(q.next_seq(), 102);
    drop(q);
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    assert!(q.recovery().lost.is_empty(), "{:?}", q.recovery().lost);
    assert_eq!(q.stats().lost_total, 0);
    assert_eq!(q.seqs(), vec![1, 101]);
    assert_eq!(q.next_seq(), 102);
}

#[test]
fn a_resequenced_record_moves_to_the_end_with_its_new_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..3 {
        q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    }
    let first = q.peek(1, usize::MAX).unwrap().remove(0);
    q.raise_next_seq(10).unwrap();
    let new = q.resequence(&first, |s| payload(s, 5)).unwrap();
    assert_eq!(new, 11);
    assert_eq!(q.seqs(), vec![2, 3, 11]);
    assert_eq!(q.stats().resequenced_total, 1);
    drop(q);
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    let recs = q.peek(10, usize::MAX).unwrap();
    assert_eq!(recs.last().unwrap().payload, payload(11, 5));
    assert!(q.recovery().lost.is_empty());
}

#[test]
fn a_read_only_view_works_on_damaged_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..3 {
        q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    }
    q.persist_high_water().unwrap();
    drop(q);
    fs::write(tmp.path().join("meta.json"), b"{\"next_seq\": 4, garbage").unwrap();
    let ro = Queue::open_read_only(tmp.path(), cfg_small()).unwrap();
    let st = ro.stats();
    assert_eq!(st.depth, 3);
    assert!(st.meta_problem.as_deref().unwrap().contains("meta.json"));
    assert_eq!(
        fs::read(tmp.path().join("meta.json")).unwrap(),
        b"{\"next_seq\": 4, garbage",
        "a read-only view repairs nothing"
    );
}

#[test]
fn unreadable_meta_is_rebuilt_from_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let mut q = Queue::open(tmp.path(), cfg_small()).unwrap();
    for _ in 0..3 {
        q.append_with(Utc::now(), |s| payload(s, 5)).unwrap();
    }
    q.ack(&[1]).unwrap();
    drop(q);
    fs::write(tmp.path().join("meta.json"), b"{not json").unwrap();
    let q = Queue::open(tmp.path(), cfg_small()).unwrap();
    // Seq 1 may come back (re-sent, acked by the server as a duplicate); 2 and 3 are kept.
    assert!(q.seqs().ends_with(&[2, 3]));
    assert_eq!(q.next_seq(), 4);
}

// ------------------------------------------------------------------ model-based property test

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    Peek(usize),
    /// Ack a subset of the first live records (mask bits), like a partial server ack.
    Ack(Vec<bool>),
    /// Ack seqs that do not exist (never issued, or already gone): must be harmless.
    AckStray(u64),
    Quarantine(usize),
    Reopen,
    /// Crash in the middle of an append: a prefix of the next record reaches the file.
    CrashTorn(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..300).prop_map(Op::Append),
        2 => (1usize..20).prop_map(Op::Peek),
        2 => proptest::collection::vec(any::<bool>(), 0..12).prop_map(Op::Ack),
        1 => (0u64..1000).prop_map(Op::AckStray),
        1 => (0usize..5).prop_map(Op::Quarantine),
        1 => Just(Op::Reopen),
        1 => (1usize..200).prop_map(Op::CrashTorn),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn queue_matches_in_memory_model(ops in proptest::collection::vec(op(), 1..60)) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("q");
        let mut q = Queue::open(&dir, cfg_small()).unwrap();
        let mut model: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut max_issued = 0u64;
        let now = Utc::now();
        for op in ops {
            match op {
                Op::Append(len) => {
                    let seq = q.append_with(now, |s| payload(s, len)).unwrap();
                    prop_assert!(seq > max_issued, "seq {seq} reused (max {max_issued})");
                    max_issued = seq;
                    model.insert(seq, payload(seq, len));
                }
                Op::Peek(n) => {
                    let got = q.peek(n, usize::MAX).unwrap();
                    let want: Vec<(u64, Vec<u8>)> =
                        model.iter().take(n).map(|(s, p)| (*s, p.clone())).collect();
                    let got: Vec<(u64, Vec<u8>)> =
                        got.into_iter().map(|r| (r.seq, r.payload)).collect();
                    prop_assert_eq!(got, want);
                }
                Op::Ack(mask) => {
                    let chosen: Vec<u64> = model
                        .keys()
                        .zip(mask)
                        .filter(|(_, m)| *m)
                        .map(|(s, _)| *s)
                        .collect();
                    q.ack(&chosen).unwrap();
                    for s in chosen {
                        model.remove(&s);
                    }
                }
                Op::AckStray(s) => {
                    let s = max_issued + 1 + s;
                    prop_assert_eq!(q.ack(&[s]).unwrap(), 0);
                }
                Op::Quarantine(i) => {
                    if let Some(s) = model.keys().nth(i).copied() {
                        prop_assert_eq!(q.remove(&[s], Removal::Quarantined).unwrap(), 1);
                        model.remove(&s);
                    }
                }
                Op::Reopen => {
                    drop(q);
                    q = Queue::open(&dir, cfg_small()).unwrap();
                }
                Op::CrashTorn(cut) => {
                    let next = q.next_seq();
                    drop(q);
                    let full = record::encode(next, 0, &payload(next, 50));
                    let cut = cut.min(full.len() - 1);
                    let seg = match segment_files(&dir).pop() {
                        Some(p) => p,
                        None => dir.join(segment_name(next)),
                    };
                    let mut f = fs::OpenOptions::new().create(true).append(true).open(&seg).unwrap();
                    f.write_all(&full[..cut]).unwrap();
                    drop(f);
                    q = Queue::open(&dir, cfg_small()).unwrap();
                }
            }
            prop_assert_eq!(q.seqs(), model.keys().copied().collect::<Vec<_>>());
            prop_assert!(q.next_seq() > max_issued);
        }
        // Whatever happened, a final reopen reads back exactly the model.
        drop(q);
        let mut q = Queue::open(&dir, cfg_small()).unwrap();
        let got: BTreeMap<u64, Vec<u8>> = q
            .peek(usize::MAX, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, r.payload))
            .collect();
        prop_assert_eq!(got, model);
    }
}
