//! `rt-agent uninstall [--purge]`: reverses what `install` recorded in its manifest; with
//! `--purge` also removes the device credential, configuration, queue and state directory.

use crate::cli::{GlobalArgs, UninstallArgs};
use crate::scheduler;
use crate::state::StateDir;
use anyhow::Context;
use std::path::Path;

pub fn run(global: &GlobalArgs, args: &UninstallArgs) -> anyhow::Result<i32> {
    let state = StateDir::resolve(global.state_dir.as_deref());
    let report = scheduler::uninstall(state.path())?;
    if report.actions.is_empty() && report.warnings.is_empty() {
        println!("no schedule was installed from {}", state.path().display());
    } else {
        println!("schedule removed:");
        scheduler::print_report(&report);
    }
    if args.purge {
        purge(&state)?;
        if let Ok(exe) = std::env::current_exe() {
            println!(
                "the program itself stays at {}; delete it with `rm {}` (or the Programs list on Windows)",
                exe.display(),
                exe.display()
            );
        }
    }
    Ok(0)
}

/// Removes the credential (wherever it lives) and the state directory. Refuses a directory that
/// does not look like an agent state directory, so a mistyped `--state-dir` cannot wipe data.
pub fn purge(state: &StateDir) -> anyhow::Result<()> {
    let dir = state.path();
    if !dir.exists() {
        println!("nothing to purge: {} does not exist", dir.display());
        return Ok(());
    }
    // The credential first: with the keyring backend it is not inside the directory.
    let kind = state
        .load_config()
        .ok()
        .flatten()
        .map(|c| c.credential_store);
    let mut kinds = vec![rt_client::credstore::StoreKind::File];
    if let Some(k) = kind.filter(|k| *k != rt_client::credstore::StoreKind::File) {
        kinds.insert(0, k);
    }
    for kind in kinds {
        if let Ok(opened) = state.credential_store(kind) {
            match opened.store.delete() {
                Ok(()) => println!(
                    "removed the device credential ({})",
                    opened.store.location()
                ),
                Err(e) => eprintln!("warning: cannot remove the device credential: {e}"),
            }
        }
    }
    if !looks_like_state_dir(dir) {
        anyhow::bail!(
            "{} does not look like an rt-agent state directory (no config.json, install.json or queue/); \
             not removing it",
            dir.display()
        );
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    println!(
        "removed {} (configuration, queue, credentials)",
        dir.display()
    );
    Ok(())
}

fn looks_like_state_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut any = false;
    for e in entries.flatten() {
        any = true;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if matches!(
            name.as_ref(),
            "config.json" | "install.json" | "queue" | "device.token" | "upload.json"
        ) {
            return true;
        }
    }
    // An empty directory is safe to remove too.
    !any
}
