//! `rt-agent collect`.

use crate::cli::{CollectArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &CollectArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent collect is not built yet")
}
