//! `rt-agent status`.

use crate::cli::{StatusArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &StatusArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent status is not built yet")
}
