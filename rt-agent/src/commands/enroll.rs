//! `rt-agent enroll`: without `--non-interactive` the wizard (`crate::wizard`) runs; with it,
//! everything comes from flags / environment for mass deployment (this file).

use crate::agent;
use crate::cli::{EnrollArgs, GlobalArgs, InstallArgs};
use crate::collect::collect_inventory;
use crate::enroll::{EnrollAuth, Server, enroll_with, parse_interval};
use anyhow::{Context, bail};
use rt_client::credstore::{Secret, StoreKind};

pub fn run(global: &GlobalArgs, args: &EnrollArgs) -> anyhow::Result<i32> {
    if !args.non_interactive {
        // The wizard refuses (exit 2, pointing here) when there is no terminal.
        return crate::wizard::run(global, args);
    }
    let sd = agent::state_dir(global);
    let server = args
        .server
        .as_deref()
        .context("--server URL is required with --non-interactive (or set RT_SERVER_URL)")?;
    let server = Server::new(server).with_ca_file(args.ca_file.clone())?;
    let auth = match (&args.token, &args.username) {
        (Some(t), None) => EnrollAuth::Token(Secret::new(t.trim())),
        (None, Some(u)) => {
            if !args.password_stdin {
                bail!(
                    "--username needs --password-stdin (the password is read from standard input)"
                );
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let pw = line.trim_end_matches(['\r', '\n']);
            if pw.is_empty() {
                bail!("empty password on standard input");
            }
            EnrollAuth::Password {
                username: u.clone(),
                password: Secret::new(pw),
            }
        }
        (Some(_), Some(_)) => bail!("use either --token or --username, not both"),
        (None, None) => {
            bail!("--token T or --username U --password-stdin is required with --non-interactive")
        }
    };
    let store_kind: StoreKind = args
        .credential_store
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let interval = args.interval.as_deref().map(parse_interval).transpose()?;
    if let Some(existing) = sd.load_config()?
        && !args.force
    {
        bail!(
            "this device is already enrolled as device {} with {}; pass --force to enroll again",
            existing.device_id,
            existing.server_url
        );
    }
    let inventory = collect_inventory();
    let resp = enroll_with(
        &server,
        auth,
        inventory,
        args.name.clone(),
        args.asset_tag.clone(),
        args.assignee.clone(),
        store_kind,
        &sd,
    )?;
    let mut conf = sd.require_config()?;
    if let Some(i) = interval {
        conf.collection_interval_s = i;
        sd.save_config(&conf)?;
    }
    println!(
        "enrolled: device {} ({}) with {}; collection every {}s; token in the {} store; state in {}",
        resp.device_id,
        if resp.re_enrolled {
            "re-enrolled, history kept"
        } else {
            "new"
        },
        conf.server_url,
        conf.collection_interval_s,
        match conf.credential_store {
            StoreKind::Keyring => "keyring",
            _ => "file",
        },
        sd.path().display()
    );
    if args.install != "none" {
        let ia = InstallArgs {
            scheduler: args.install.clone(),
            interval: format!("{}s", conf.collection_interval_s),
            mode: "timer".into(),
            dry_run: false,
        };
        match crate::commands::install::run(global, &ia) {
            Ok(0) => {}
            Ok(code) => {
                eprintln!(
                    "rt-agent: enrolled, but installing the schedule failed; run `rt-agent install` again"
                );
                return Ok(code);
            }
            Err(e) => {
                eprintln!(
                    "rt-agent: enrolled, but installing the schedule failed: {e:#}; run `rt-agent install`"
                );
                return Ok(1);
            }
        }
    }
    Ok(0)
}
