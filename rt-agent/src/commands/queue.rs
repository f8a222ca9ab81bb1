//! `rt-agent queue`.

use crate::cli::{QueueArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &QueueArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent queue is not built yet")
}
