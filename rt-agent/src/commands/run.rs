//! `rt-agent run`.

use crate::cli::{RunArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &RunArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent run is not built yet")
}
