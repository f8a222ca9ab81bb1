//! `rt-agent install`.

use crate::cli::{InstallArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &InstallArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent install is not built yet")
}
