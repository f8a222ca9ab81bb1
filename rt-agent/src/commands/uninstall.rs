//! `rt-agent uninstall`.

use crate::cli::{UninstallArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &UninstallArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent uninstall is not built yet")
}
