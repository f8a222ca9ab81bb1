//! `rt-agent simulate`.

use crate::cli::{SimulateArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &SimulateArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent simulate is not built yet")
}
