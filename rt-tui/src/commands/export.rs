//! `rt-tui export`: streams `GET /api/v1/export/{what}` chunk by chunk to stdout, or to a
//! temporary file next to `--output` that is renamed over it only when the whole body arrived
//! (a failed export never leaves a partial file under the final name). Progress on stderr only
//! when stderr is a terminal; a summary (rows, bytes, time) on stderr.

use crate::cli::{ExportArgs, Format, What};
use crate::format::parse_time;
use crate::{Ctx, UsageError, resolve_device};
use futures_util::StreamExt;
use rt_core::export::format_time;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Counts rows in a streamed export without holding it: CSV lines after the header (quoted
/// newlines excluded), NDJSON lines, JSON objects at depth 1 of the top-level array.
#[derive(Debug, Default)]
pub struct RowCounter {
    format: Option<Format>,
    in_string: bool,
    escape: bool,
    depth: u32,
    newlines: u64,
    objects: u64,
    last: Option<u8>,
}

impl RowCounter {
    pub fn new(format: Format) -> Self {
        RowCounter {
            format: Some(format),
            ..Default::default()
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            match self.format {
                Some(Format::Csv) => {
                    if b == b'"' {
                        self.in_string = !self.in_string;
                    } else if b == b'\n' && !self.in_string {
                        self.newlines += 1;
                    }
                }
                Some(Format::Ndjson) => {
                    if b == b'\n' {
                        self.newlines += 1;
                    }
                }
                Some(Format::Json) | None => {
                    if self.in_string {
                        if self.escape {
                            self.escape = false;
                        } else if b == b'\\' {
                            self.escape = true;
                        } else if b == b'"' {
                            self.in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => self.in_string = true,
                        b'{' | b'[' => {
                            if b == b'{' && self.depth == 1 {
                                self.objects += 1;
                            }
                            self.depth += 1;
                        }
                        b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            if !b.is_ascii_whitespace() || b == b'\n' {
                self.last = Some(b);
            }
        }
    }

    /// Data rows seen so far.
    pub fn rows(&self) -> u64 {
        let unterminated = u64::from(self.last.is_some_and(|b| b != b'\n'));
        match self.format {
            Some(Format::Csv) => (self.newlines + unterminated).saturating_sub(1),
            Some(Format::Ndjson) => self.newlines + unterminated,
            _ => self.objects,
        }
    }
}

fn fmt_str(f: Format) -> &'static str {
    match f {
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Ndjson => "ndjson",
    }
}

fn what_str(w: What) -> &'static str {
    match w {
        What::Samples => "samples",
        What::Devices => "devices",
        What::Events => "events",
    }
}

/// The query string of the export request.
pub fn params(
    a: &ExportArgs,
    now: chrono::DateTime<chrono::Utc>,
    devices: &[rt_core::DeviceId],
) -> Result<Vec<(&'static str, String)>, UsageError> {
    let until = match &a.until {
        Some(u) => Some(parse_time(u).map_err(UsageError)?),
        None => None,
    };
    let from = match (&a.since, &a.from) {
        (Some(d), _) => {
            let d = chrono::Duration::from_std(*d)
                .map_err(|_| UsageError("--since is too long".into()))?;
            Some(until.unwrap_or(now) - d)
        }
        (None, Some(f)) => Some(parse_time(f).map_err(UsageError)?),
        (None, None) => None,
    };
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        return Err(UsageError(format!(
            "the window is empty: --from/--since ({}) is not before --until ({})",
            format_time(&f),
            format_time(&u)
        )));
    }
    let mut p = vec![("format", fmt_str(a.format).to_string())];
    if let Some(f) = from {
        p.push(("from", format_time(&f)));
    }
    if let Some(u) = until {
        p.push(("to", format_time(&u)));
    }
    for d in devices {
        p.push(("device", d.to_string()));
    }
    Ok(p)
}

pub async fn run(ctx: &Ctx, a: &ExportArgs) -> anyhow::Result<()> {
    // The window is checked before the devices are looked up, so a usage error needs no server.
    params(a, chrono::Utc::now(), &[])?;
    let client = ctx.client()?;
    let mut devices = Vec::with_capacity(a.devices.len());
    for d in &a.devices {
        devices.push(resolve_device(&client, d).await?);
    }
    let params = params(a, chrono::Utc::now(), &devices)?;
    // Prepare the destination before asking the server, so a bad path fails fast.
    let mut tmp = match &a.output {
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            let t = tempfile::Builder::new()
                .prefix(".rt-export-")
                .suffix(".part")
                .tempfile_in(&dir)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot write in {}: {e}; choose another --output",
                        dir.display()
                    )
                })?;
            Some(t)
        }
        None => None,
    };
    let started = Instant::now();
    let resp = client.export(what_str(a.what), &params).await?;
    let total = resp.content_length();
    let url = resp.url().to_string();
    let bar = if std::io::stderr().is_terminal() {
        let b = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {bytes} {binary_bytes_per_sec} {elapsed} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        b.set_style(style);
        Some(b)
    } else {
        None
    };
    let mut counter = RowCounter::new(a.format);
    let mut bytes: u64 = 0;
    let mut stream = resp.bytes_stream();
    let stdout = std::io::stdout();
    let mut out_stdout = stdout.lock();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                if let Some(b) = &bar {
                    b.abandon();
                }
                let where_ = match &a.output {
                    Some(p) => format!("; {} was not written", p.display()),
                    None => "; the output on stdout is incomplete".into(),
                };
                anyhow::bail!(
                    "export interrupted after {bytes} bytes: {e} ({url}){where_}; run the export again"
                );
            }
        };
        counter.feed(&chunk);
        bytes += chunk.len() as u64;
        match tmp.as_mut() {
            Some(t) => t.write_all(&chunk)?,
            None => out_stdout
                .write_all(&chunk)
                // Kept as the source, so a closed stdout (`| head`) is recognised and quiet.
                .map_err(|e| anyhow::Error::new(e).context("cannot write to stdout"))?,
        }
        if let Some(b) = &bar {
            b.set_position(bytes);
            b.set_message(format!("{} rows", counter.rows()));
        }
    }
    if let Some(total) = total
        && total != bytes
    {
        anyhow::bail!("export incomplete: got {bytes} of {total} bytes; run the export again");
    }
    match (tmp, &a.output) {
        (Some(t), Some(path)) => {
            t.as_file().sync_all()?;
            t.persist(path).map_err(|e| {
                anyhow::anyhow!("cannot move the export to {}: {}", path.display(), e.error)
            })?;
        }
        _ => out_stdout.flush()?,
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    eprintln!(
        "exported {} {} rows, {} bytes in {:.1}s{}",
        counter.rows(),
        what_str(a.what),
        bytes,
        started.elapsed().as_secs_f64(),
        a.output
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn count(f: Format, chunks: &[&str]) -> u64 {
        let mut c = RowCounter::new(f);
        for ch in chunks {
            c.feed(ch.as_bytes());
        }
        c.rows()
    }

    #[test]
    fn counts_rows_across_chunks() {
        assert_eq!(count(Format::Csv, &["a,b\n1,\"x\n", "y\"\n2,3\n"]), 2);
        assert_eq!(count(Format::Csv, &["a,b\n1,2"]), 1);
        assert_eq!(count(Format::Csv, &["a,b\n"]), 0);
        assert_eq!(count(Format::Ndjson, &["{\"a\":1}\n{\"a\"", ":2}\n"]), 2);
        assert_eq!(
            count(
                Format::Json,
                &["[{\"a\":{\"b\":1}},", "{\"s\":\"}{\\\"\"}]"]
            ),
            2
        );
        assert_eq!(count(Format::Json, &["[]"]), 0);
    }

    #[test]
    fn window_params() {
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
            .unwrap();
        let a = ExportArgs {
            format: Format::Csv,
            what: What::Samples,
            since: Some(std::time::Duration::from_secs(7 * 86_400)),
            from: None,
            until: None,
            devices: vec!["3".into(), "5".into()],
            output: None,
        };
        let p = params(&a, now, &[rt_core::DeviceId(3), rt_core::DeviceId(5)]).unwrap();
        assert_eq!(
            p,
            vec![
                ("format", "csv".to_string()),
                ("from", "2026-11-20T12:00:00Z".to_string()),
                ("device", "3".to_string()),
                ("device", "5".to_string())
            ]
        );
        let bad = ExportArgs {
            from: Some("2026-11-28".into()),
            since: None,
            until: Some("2026-11-27".into()),
            ..a
        };
        assert!(params(&bad, now, &[]).unwrap_err().0.contains("empty"));
    }
}
