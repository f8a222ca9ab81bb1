//! `rt-agent sync`.

use crate::cli::{SyncArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &SyncArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent sync is not built yet")
}
