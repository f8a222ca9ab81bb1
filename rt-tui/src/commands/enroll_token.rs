//! `rt-tui enroll-token create [--expires 24h] [--uses N] [--allow-reenroll]` (admin). The token goes to stdout
//! (once: the server keeps only its hash); the explanation to stderr.

use crate::cli::EnrollTokenCmd;
use crate::{Ctx, UsageError};
use rt_core::api::CreateEnrollmentTokenRequest;

pub async fn run(ctx: &Ctx, cmd: &EnrollTokenCmd) -> anyhow::Result<()> {
    let EnrollTokenCmd::Create {
        expires,
        uses,
        note,
        allow_reenroll,
        json,
    } = cmd;
    let hours = u32::try_from(expires.as_secs().div_ceil(3600).max(1))
        .map_err(|_| UsageError("--expires is too long".into()))?;
    let client = ctx.client()?;
    let t = client
        .create_enrollment_token(&CreateEnrollmentTokenRequest {
            expires_in_hours: Some(hours),
            max_uses: *uses,
            note: note.clone(),
            allow_reenroll: *allow_reenroll,
        })
        .await?;
    if *json {
        println!(
            "{}",
            serde_json::json!({"id": t.id, "token": t.token, "expires_at": t.expires_at, "max_uses": t.max_uses, "allow_reenroll": t.allow_reenroll})
        );
    } else {
        println!("{}", t.token);
        eprintln!(
            "enrollment token {} valid until {}{}; it is shown only once. Enroll with:\n  rt-agent enroll --non-interactive --server {} --token <TOKEN>",
            t.id,
            t.expires_at.format("%Y-%m-%d %H:%M UTC"),
            t.max_uses
                .map(|n| format!(", {n} uses"))
                .unwrap_or_default()
                + if t.allow_reenroll {
                    ", may re-enroll known hardware"
                } else {
                    ""
                },
            client.base().as_str().trim_end_matches('/'),
        );
    }
    Ok(())
}
