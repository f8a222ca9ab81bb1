//! kill -9 at random moments: a child process appends to the queue in a loop and reports each
//! append that returned (committed) on stdout; the parent kills it with SIGKILL after a random
//! delay, many times over the same queue, and then proves that every committed record is
//! still there, intact, in order, and that the queue reopens and keeps appending.
//!
//! The child is this very test binary, re-executed on the ignored `crash_child_appender` test.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use rt_agent::queue::{Queue, QueueConfig};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "RT_QUEUE_CRASH_CHILD_DIR";

fn cfg() -> QueueConfig {
    QueueConfig {
        // Small segments so kills also land around rotations and segment creation.
        segment_bytes: 16 * 1024,
        ..QueueConfig::default()
    }
}

fn payload(seq: u64) -> Vec<u8> {
    let pad = "x".repeat((seq as usize * 37) % 700);
    format!("{{\"seq\":{seq},\"pad\":\"{pad}\"}}").into_bytes()
}

/// The child: append forever, acking now and then, printing "C <seq>" after each commit.
#[test]
#[ignore = "run only as the child of kill_minus_nine_never_loses_a_committed_record"]
fn crash_child_appender() {
    use std::io::Write;
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut q = Queue::open(Path::new(&dir), cfg()).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY {}", q.next_seq()).unwrap();
    out.flush().unwrap();
    loop {
        let seq = q.append_with(Utc::now(), payload).unwrap();
        writeln!(out, "C {seq}").unwrap();
        out.flush().unwrap();
        // Every 7th append also acks the oldest record, so kills land in ack/compaction too.
        if seq.is_multiple_of(7) {
            let oldest = q.seqs()[0];
            writeln!(out, "I {oldest}").unwrap();
            out.flush().unwrap();
            q.ack(&[oldest]).unwrap();
            writeln!(out, "A {oldest}").unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn kill_minus_nine_never_loses_a_committed_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("queue");
    let exe = std::env::current_exe().unwrap();
    // committed and not acked: seq -> payload
    let mut expect: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut acked_max = 0u64;
    // Acks begun ("I") whose completion may or may not have happened before the kill.
    let mut maybe_acked: std::collections::BTreeSet<u64> = Default::default();
    let mut max_committed = 0u64;
    let rounds = 32;
    let started = Instant::now();
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_appender",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child opened the queue, then let it run a random while.
        // (libtest prints its own text first, on the same line.)
        let deadline = Instant::now() + Duration::from_secs(30);
        let next: u64 = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("child never became ready");
            if let Some(i) = line.find("READY ") {
                break line[i + 6..].trim().parse().unwrap();
            }
        };
        assert!(
            next > max_committed,
            "round {round}: seq {next} would reuse a committed seq"
        );
        std::thread::sleep(Duration::from_micros(rand::random::<u64>() % 150_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        for line in rx.try_iter() {
            let mut it = line.split(' ');
            match (it.next(), it.next().and_then(|s| s.parse::<u64>().ok())) {
                (Some("C"), Some(seq)) => {
                    expect.insert(seq, payload(seq));
                    max_committed = max_committed.max(seq);
                }
                (Some("I"), Some(seq)) => {
                    maybe_acked.insert(seq);
                }
                (Some("A"), Some(seq)) => {
                    expect.remove(&seq);
                    acked_max = acked_max.max(seq);
                }
                _ => {}
            }
        }
        // The queue reopens after every kill and holds every committed record.
        let mut q = Queue::open(&dir, cfg()).unwrap();
        let got: BTreeMap<u64, Vec<u8>> = q
            .peek(usize::MAX, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, r.payload))
            .collect();
        expect.retain(|seq, _| got.contains_key(seq) || !maybe_acked.contains(seq));
        for (seq, p) in &expect {
            assert_eq!(
                got.get(seq),
                Some(p),
                "round {round}: committed seq {seq} lost or changed"
            );
        }
        // Anything beyond what the parent saw is either the last record (committed, report
        // lost with the kill) or an ack that completed before the kill: never a stranger.
        for seq in got.keys() {
            assert!(
                expect.contains_key(seq) || *seq > max_committed,
                "round {round}: seq {seq} came back although it was acked"
            );
        }
        assert_eq!(q.stats().damaged_total, 0, "a kill is not damage");
        // Adopt records that were committed but whose report died with the child.
        for (seq, p) in got {
            if seq > max_committed {
                assert_eq!(p, payload(seq));
                expect.insert(seq, p);
                max_committed = seq;
            }
        }
    }
    assert!(
        max_committed > rounds as u64,
        "the child made progress ({max_committed} appends)"
    );
    assert!(acked_max > 0);
    eprintln!(
        "{rounds} kills, {max_committed} appends, {} live, {:?}",
        expect.len(),
        started.elapsed()
    );
}
