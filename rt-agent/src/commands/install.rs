//! `rt-agent install`: installs the schedule (systemd, cron, Task Scheduler or launchd) and
//! records it in `<state>/install.json` so that `uninstall` can reverse exactly that.

use crate::cli::{GlobalArgs, InstallArgs};
use crate::scheduler::{self, Choice, Host};
use crate::state::StateDir;

pub fn run(global: &GlobalArgs, args: &InstallArgs) -> anyhow::Result<i32> {
    let state = StateDir::resolve(global.state_dir.as_deref());
    let choice: Choice = args.scheduler.parse()?;
    let host = Host::from_env()?;
    let Some(spec) = scheduler::spec_for(choice, &args.interval, &args.mode, state.path(), &host)?
    else {
        println!("--scheduler none: nothing to install");
        return Ok(0);
    };
    if !args.dry_run && state.load_config()?.is_none() {
        eprintln!(
            "note: this device is not enrolled yet; scheduled runs will fail until you run `rt-agent enroll`"
        );
    }
    let report = scheduler::install(&spec, &host, args.dry_run)?;
    if args.dry_run {
        println!(
            "dry run: {} {} schedule every {} (nothing changed)",
            spec.kind,
            if spec.mode == scheduler::Mode::Timer {
                "timer"
            } else {
                "service"
            },
            scheduler::human_interval(spec.interval_s)
        );
        scheduler::print_report(&report);
        return Ok(0);
    }
    println!(
        "{} schedule {}: every {}, running `{} {}`",
        spec.kind,
        if report.changed {
            "installed"
        } else {
            "already installed (nothing changed)"
        },
        scheduler::human_interval(spec.interval_s),
        spec.exe.display(),
        spec.agent_args().join(" ")
    );
    scheduler::print_report(&report);
    Ok(0)
}
