//! `rt-tui assign DEVICE USER` and `rt-tui lifecycle DEVICE STATE`.

use crate::{Ctx, UsageError, resolve_device};
use rt_core::LifecycleState;
use rt_core::api::DevicePatch;

pub async fn assign(ctx: &Ctx, device: &str, user: &str) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let id = resolve_device(&client, device).await?;
    let user = user.trim();
    let clear = user.is_empty() || user == "-";
    let patch = DevicePatch {
        assignee: Some(if clear {
            String::new()
        } else {
            user.to_string()
        }),
        ..Default::default()
    };
    let d = client.patch_device(id, &patch).await?;
    match d.summary.assignee {
        Some(a) => eprintln!(
            "device {} ({}) assigned to {a}",
            d.summary.id, d.summary.name
        ),
        None => eprintln!(
            "device {} ({}) is now unassigned",
            d.summary.id, d.summary.name
        ),
    }
    Ok(())
}

pub async fn lifecycle(ctx: &Ctx, device: &str, state: &str) -> anyhow::Result<()> {
    let to: LifecycleState = state
        .parse()
        .map_err(|e: rt_core::lifecycle::UnknownLifecycleState| UsageError(e.to_string()))?;
    let client = ctx.client()?;
    let id = resolve_device(&client, device).await?;
    let current = client.device(id).await?;
    if let Err(e) = rt_core::lifecycle::check_transition(current.summary.lifecycle_state, to) {
        let allowed: Vec<&str> = current
            .summary
            .lifecycle_state
            .allowed_next()
            .iter()
            .map(|s| s.as_str())
            .collect();
        anyhow::bail!(
            "{e}; allowed from {}: {}",
            current.summary.lifecycle_state,
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        );
    }
    let patch = DevicePatch {
        lifecycle_state: Some(to),
        ..Default::default()
    };
    let d = client.patch_device(id, &patch).await?;
    eprintln!(
        "device {} ({}): {} -> {}",
        d.summary.id, d.summary.name, current.summary.lifecycle_state, d.summary.lifecycle_state
    );
    Ok(())
}
