//! `rt-agent queue [--json]`: depth, bytes, oldest, drops, quarantine of the local queue.

use crate::agent;
use crate::cli::{GlobalArgs, QueueArgs};
use crate::queue::{Queue, QueueConfig, QueueStats, read_quarantine};

pub fn run(global: &GlobalArgs, args: &QueueArgs) -> anyhow::Result<i32> {
    let sd = agent::state_dir(global);
    // Read-only: works while `rt-agent run` holds the queue.
    let q = Queue::open_read_only(&sd.queue_dir(), QueueConfig::default())?;
    let st = q.stats();
    let quarantine = read_quarantine(&sd.quarantine_path());
    if args.json {
        let v = serde_json::json!({
            "dir": sd.queue_dir(),
            "stats": st,
            "quarantine_file": sd.quarantine_path(),
            "quarantine": quarantine.iter().map(|e| serde_json::json!({
                "seq": e.seq, "reason": e.reason, "quarantined_at": e.quarantined_at
            })).collect::<Vec<_>>(),
        });
        agent::print_out(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        return Ok(0);
    }
    let mut out = render(&st);
    out.push_str(&format!("directory     {}\n", sd.queue_dir().display()));
    if !quarantine.is_empty() {
        out.push_str(&format!(
            "quarantine    {} ({} entries)\n",
            sd.quarantine_path().display(),
            quarantine.len()
        ));
        for e in quarantine.iter().rev().take(5) {
            out.push_str(&format!(
                "  seq {:<8} {}  {}\n",
                e.seq,
                e.quarantined_at.format("%Y-%m-%d %H:%M"),
                e.reason
            ));
        }
    }
    agent::print_out(&out)?;
    Ok(0)
}

/// Human-readable queue figures (shared with `status`).
pub fn render(st: &QueueStats) -> String {
    let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let mut s = String::new();
    s.push_str(&format!("depth         {} sample(s)\n", st.depth));
    s.push_str(&format!(
        "bytes         {} of {} max ({} days max age)\n",
        st.bytes, st.max_bytes, st.max_age_days
    ));
    s.push_str(&format!("oldest        {}\n", t(st.oldest)));
    s.push_str(&format!("newest        {}\n", t(st.newest)));
    s.push_str(&format!("next seq      {}\n", st.next_seq));
    s.push_str(&format!(
        "dropped       {} total, {} since last upload{}\n",
        st.dropped_total,
        st.dropped_since_upload,
        if st.gaps.is_empty() {
            String::new()
        } else {
            format!(" (gaps {:?})", st.gaps)
        }
    ));
    s.push_str(&format!("damaged       {}\n", st.damaged_total));
    s.push_str(&format!(
        "lost          {} (in no queue file any more: deleted or unreadable)\n",
        st.lost_total
    ));
    s.push_str(&format!("quarantined   {}\n", st.quarantined_total));
    s.push_str(&format!(
        "re-sequenced  {} (conflicts re-sent under a new seq)\n",
        st.resequenced_total
    ));
    if let Some(p) = &st.meta_problem {
        s.push_str(&format!("WARNING       {p}\n"));
    }
    s
}
