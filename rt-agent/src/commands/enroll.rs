//! `rt-agent enroll`.

use crate::cli::{EnrollArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: &EnrollArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rt-agent enroll is not built yet")
}
