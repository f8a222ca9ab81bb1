//! `rt-agent inventory`.

use crate::cli::{InventoryArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &InventoryArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent inventory is not built yet")
}
