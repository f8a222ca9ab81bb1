//! `rt-agent status [--json]`: the truth about this agent, for people and for monitoring.
//!
//! Exit codes: 0 all well, 1 something needs attention (listed), 3 not enrolled or the server
//! refused the device token.

use crate::agent;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::queue::{Queue, QueueConfig, QueueStats, read_quarantine};
use crate::state::{AgentConfig, StateDir};
use crate::upload::UploadState;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Status {
    pub enrolled: bool,
    pub state_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_interval_s: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_store: Option<String>,
    pub token_present: bool,
    pub upload: UploadState,
    pub backing_off: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueStats>,
    pub scheduler: String,
    pub attention: Vec<String>,
}

/// Builds the status (no network: it reports the last known upload result).
pub fn gather(sd: &StateDir, now: DateTime<Utc>) -> Status {
    let mut attention = Vec::new();
    let conf: Option<AgentConfig> = match sd.load_config() {
        Ok(c) => c,
        Err(e) => {
            attention.push(format!("configuration unreadable: {e:#}"));
            None
        }
    };
    let (cred, token_present) = match &conf {
        Some(c) => match sd.credential_store(c.credential_store) {
            Ok(o) => {
                let present = matches!(o.store.get(), Ok(Some(_)));
                (
                    Some(format!("{} ({})", o.store.kind(), o.store.location())),
                    present,
                )
            }
            Err(e) => (Some(format!("unavailable: {e:#}")), false),
        },
        None => (None, false),
    };
    let upload = UploadState::load(sd).unwrap_or_default();
    let queue = match Queue::open_read_only(&sd.queue_dir(), QueueConfig::default()) {
        Ok(q) => Some(q.stats()),
        Err(e) => {
            attention.push(format!("queue unreadable: {e}"));
            None
        }
    };
    match &conf {
        None => attention.push("not enrolled: run `rt-agent enroll`".into()),
        Some(c) => {
            if !token_present {
                attention.push("device token missing: run `rt-agent enroll --force`".into());
            }
            if let Some(a) = &upload.auth_failure {
                attention.push(a.clone());
            }
            let interval = i64::from(c.collection_interval_s.max(60));
            match upload.last_collection_at {
                None => attention.push(
                    "no sample collected yet (is the schedule installed? `rt-agent install`)"
                        .into(),
                ),
                Some(t) if (now - t).num_seconds() > 3 * interval => attention.push(format!(
                    "last collection {} ago (interval {}s): is the schedule running?",
                    human(now - t),
                    c.collection_interval_s
                )),
                _ => {}
            }
            if upload.consecutive_failures > 0 {
                let since = upload
                    .last_success_at
                    .map(|t| format!("last success {} ago", human(now - t)))
                    .unwrap_or_else(|| "never uploaded".into());
                attention.push(format!(
                    "uploads failing ({} in a row, {since}): {}",
                    upload.consecutive_failures,
                    upload.last_error.clone().unwrap_or_default()
                ));
            }
        }
    }
    if let Some(q) = &queue {
        if q.dropped_since_upload > 0 {
            attention.push(format!(
                "{} sample(s) dropped or lost from the queue since the last upload (queue full, \
                 or queue files damaged or deleted); counted as gaps {:?}",
                q.dropped_since_upload, q.gaps
            ));
        }
        if let Some(p) = &q.meta_problem {
            attention.push(format!("queue bookkeeping damaged: {p}"));
        }
    }
    if upload.unresolved_conflicts > 0 {
        attention.push(format!(
            "{} sample(s) conflicted with other samples the server stores under the same seq and \
             could not be re-sent (see the quarantine)",
            upload.unresolved_conflicts
        ));
    }
    let quarantine = read_quarantine(&sd.quarantine_path());
    if let Some(last) = quarantine.last() {
        attention.push(format!(
            "{} sample(s) quarantined in {} (the server will not take them; last: seq {}: {}); \
             inspect them with `rt-agent queue`, then remove the file to clear this",
            quarantine.len(),
            sd.quarantine_path().display(),
            last.seq,
            last.reason
        ));
    }
    Status {
        enrolled: conf.is_some(),
        state_dir: sd.path().display().to_string(),
        server: conf.as_ref().map(|c| c.server_url.clone()),
        device_id: conf.as_ref().map(|c| c.device_id.0),
        device_name: conf.as_ref().and_then(|c| c.device_name.clone()),
        collection_interval_s: conf.as_ref().map(|c| c.collection_interval_s),
        credential_store: cred,
        token_present,
        backing_off: upload.backing_off(now),
        upload,
        queue,
        scheduler: crate::scheduler::status(sd.path()).to_string(),
        attention,
    }
}

fn human(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

pub fn run(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<i32> {
    let sd = agent::state_dir(global);
    let now = Utc::now();
    let st = gather(&sd, now);
    let code = if !st.enrolled || st.upload.auth_failure.is_some() {
        3
    } else if st.attention.is_empty() {
        0
    } else {
        1
    };
    if args.json {
        agent::print_out(&format!("{}\n", serde_json::to_string_pretty(&st)?))?;
        return Ok(code);
    }
    let t = |d: Option<DateTime<Utc>>| {
        d.map(|d| {
            format!(
                "{} ({} ago)",
                d.format("%Y-%m-%d %H:%M:%S UTC"),
                human(now - d)
            )
        })
        .unwrap_or_else(|| "never".into())
    };
    let mut out = String::new();
    macro_rules! outln {
        ($o:ident, $($arg:tt)*) => {{
            $o.push_str(&format!($($arg)*));
            $o.push('\n');
        }};
    }
    let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    outln!(
        out,
        "enrolled          {}",
        if st.enrolled { "yes" } else { "no" }
    );
    outln!(out, "state directory   {}", st.state_dir);
    outln!(out, "server            {}", o(&st.server));
    outln!(
        out,
        "device id         {}",
        st.device_id
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into())
    );
    outln!(out, "device name       {}", o(&st.device_name));
    outln!(
        out,
        "interval          {}",
        st.collection_interval_s
            .map(|i| format!("{i}s"))
            .unwrap_or_else(|| "-".into())
    );
    outln!(
        out,
        "credential store  {}{}",
        o(&st.credential_store),
        if st.enrolled && !st.token_present {
            " (token missing)"
        } else {
            ""
        }
    );
    outln!(out, "last collection   {}", t(st.upload.last_collection_at));
    outln!(out, "last upload       {}", t(st.upload.last_success_at));
    outln!(out, "last attempt      {}", t(st.upload.last_attempt_at));
    outln!(
        out,
        "server reachable  {}",
        match st.upload.server_reachable {
            Some(true) => "yes (last attempt)",
            Some(false) => "no (last attempt)",
            None => "unknown",
        }
    );
    outln!(
        out,
        "backoff           {}",
        match (st.backing_off, st.upload.next_attempt_at) {
            (true, Some(t)) => format!(
                "until {} after {} failure(s)",
                t.format("%Y-%m-%d %H:%M:%S UTC"),
                st.upload.consecutive_failures
            ),
            _ => "none".into(),
        }
    );
    if let Some(q) = &st.queue {
        outln!(
            out,
            "queue             {} sample(s), {} bytes, oldest {}, dropped {}, lost {}, quarantined {}, re-sequenced {}",
            q.depth,
            q.bytes,
            q.oldest
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| "-".into()),
            q.dropped_total,
            q.lost_total,
            q.quarantined_total,
            q.resequenced_total
        );
    }
    outln!(out, "scheduler         {}", st.scheduler);
    if st.attention.is_empty() {
        outln!(out, "attention         none");
    } else {
        for a in &st.attention {
            outln!(out, "attention         {a}");
        }
    }
    agent::print_out(&out)?;
    Ok(code)
}
