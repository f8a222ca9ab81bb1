//! The interactive enrollment wizard (`rt-agent enroll` on a terminal).
//!
//! welcome -> server URL (checked live against `/livez`) -> authentication (enrollment token,
//! or user name + hidden password, checked at `/auth/login`) -> device name, asset tag,
//! assignee -> collection interval -> scheduler -> summary and Confirm -> enroll, store the
//! credential, install the schedule, first collect + upload.
//!
//! Nothing is written before the final Confirm, so Esc or Ctrl-C before it leaves nothing
//! behind. After it, Ctrl-C is caught and what this run created is rolled back (token,
//! configuration, schedule), unless enrollment already replaced an earlier one on the server.

use crate::cli::{EnrollArgs, GlobalArgs};
use crate::enroll::{self, EnrollAuth};
use crate::scheduler::{self, Choice, Host, SchedulerKind};
use crate::state::StateDir;
use anyhow::{Context, Result};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};
use rt_client::credstore::{Secret, StoreKind};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit code when the user cancels (as a shell reports Ctrl-C).
pub const EXIT_CANCELLED: i32 = 130;
/// Exit code when there is no terminal to ask on.
pub const EXIT_NO_TERMINAL: i32 = 2;

static IN_COMMIT: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Answers collected before the Confirm. Nothing here is written anywhere until then.
#[derive(Debug, Clone)]
struct Answers {
    server: enroll::Server,
    auth: Auth,
    name: String,
    asset_tag: Option<String>,
    assignee: Option<String>,
    /// None: the server's interval.
    interval_s: Option<u64>,
    scheduler: Option<SchedulerKind>,
}

#[derive(Debug, Clone)]
enum Auth {
    Token(Secret),
    Password { username: String, password: Secret },
}

/// Why a prompt ended without an answer.
enum Stop {
    Cancelled,
    Failed(anyhow::Error),
}

impl From<dialoguer::Error> for Stop {
    fn from(e: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(io) = e;
        if io.kind() == std::io::ErrorKind::Interrupted {
            Stop::Cancelled
        } else {
            Stop::Failed(anyhow::Error::new(io).context("cannot read from the terminal"))
        }
    }
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Failed(e)
    }
}

type Step<T> = std::result::Result<T, Stop>;

/// Runs the wizard; returns the exit code.
pub fn run(global: &GlobalArgs, args: &EnrollArgs) -> Result<i32> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        eprintln!(
            "rt-agent enroll: no terminal to run the enrollment wizard on.\n\
             For scripts and mass deployment use the non-interactive form, e.g.:\n  \
             rt-agent enroll --non-interactive --server URL --token TOKEN [--name N] \
             [--asset-tag T] [--assignee USER] [--install auto|systemd|cron|windows|launchd|none] \
             [--interval 15m]\n  \
             echo \"$PASSWORD\" | rt-agent enroll --non-interactive --server URL --username USER --password-stdin\n\
             Every flag also has an environment variable (RT_SERVER_URL, RT_ENROLL_TOKEN, ...): see `rt-agent enroll --help`."
        );
        return Ok(EXIT_NO_TERMINAL);
    }
    let store_kind: StoreKind = args
        .credential_store
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let state = StateDir::resolve(global.state_dir.as_deref());
    watch_ctrl_c();
    match wizard(&state, args, store_kind) {
        Ok(code) => Ok(code),
        Err(Stop::Cancelled) => cancelled(),
        Err(Stop::Failed(e)) => Err(e),
    }
}

fn cancelled() -> ! {
    let _ = dialoguer::console::Term::stderr().show_cursor();
    eprintln!("\nEnrollment cancelled; nothing was changed.");
    restore_tty();
    std::process::exit(EXIT_CANCELLED)
}

/// The terminal settings at start (`stty -g`), to restore them when Ctrl-C lands in the middle
/// of a hidden password prompt (echo off).
static TTY_SETTINGS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn restore_tty() {
    if let Some(Some(saved)) = TTY_SETTINGS.get() {
        let _ = std::process::Command::new("stty")
            .arg(saved)
            .stdin(std::process::Stdio::inherit())
            .status();
    }
}

/// Ctrl-C before the Confirm: exit at once (nothing was written). After it: set a flag that the
/// commit steps check, so they can roll back.
fn watch_ctrl_c() {
    let saved = std::process::Command::new("stty")
        .arg("-g")
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let _ = TTY_SETTINGS.set(saved);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("rt-ctrl-c".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let mut ready = Some(tx);
                loop {
                    let sig = tokio::signal::ctrl_c();
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                    if sig.await.is_err() {
                        return;
                    }
                    if IN_COMMIT.load(Ordering::SeqCst) {
                        INTERRUPTED.store(true, Ordering::SeqCst);
                        eprintln!("\nInterrupted: stopping and rolling back...");
                    } else {
                        cancelled();
                    }
                }
            });
        });
    if spawned.is_ok() {
        // Wait (briefly) until the handler is registered, so an early Ctrl-C is not lost.
        let _ = rx.recv_timeout(Duration::from_secs(2));
    }
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

fn wizard(state: &StateDir, args: &EnrollArgs, store_kind: StoreKind) -> Step<i32> {
    let t = theme();
    eprintln!(
        "\nResourceTracker agent — enrollment\n\n\
         This connects this device to your organisation's ResourceTracker server. Once enrolled,\n\
         the agent regularly collects health data — CPU, memory, disks and their health, uptime,\n\
         network connectivity, temperatures, battery wear, the top processes — together with the\n\
         hardware inventory (model, serial number, OS), and sends it only to the server you enter\n\
         below. No files, documents or browsing data are ever read.\n\
         Press Esc or Ctrl-C at any time to stop; nothing is saved until you confirm at the end.\n"
    );

    let existing = state.load_config().map_err(Stop::Failed)?;
    if let Some(cfg) = &existing {
        eprintln!(
            "This device is already enrolled with {} as device {}.",
            cfg.server_url, cfg.device_id
        );
        if !args.force {
            let again = Confirm::with_theme(&t)
                .with_prompt("Re-enroll it (the server keeps its history and id)?")
                .default(false)
                .interact_opt()?;
            if again != Some(true) {
                eprintln!("Keeping the current enrollment; nothing was changed.");
                return Ok(0);
            }
        }
    }

    // `--ca-file` (checked now, before any question), else the CA the enrollment kept.
    let ca_file = match &args.ca_file {
        Some(p) => {
            enroll::Server::new("")
                .with_ca_file(Some(p.clone()))
                .map_err(Stop::Failed)?
                .ca_file
        }
        None => existing.as_ref().and_then(|c| c.ca_file.clone()),
    };
    let mut server = ask_server(
        args.server
            .clone()
            .or_else(|| existing.as_ref().map(|c| c.server_url.clone())),
        ca_file,
    )?;
    let mut auth = ask_auth(&server, args.username.clone())?;
    let inventory = crate::collect::collect_inventory();
    // Say before anything is confirmed whether this hardware is already a device, and whether
    // these credentials may re-enroll it (DESIGN §4 "Device identity").
    let known = loop {
        match enroll::preview(&server, &to_enroll_auth(&auth), &inventory) {
            Ok(Some(p)) if p.allowed => break p.existing,
            Ok(Some(p)) => {
                let why = p.reason.unwrap_or_default();
                eprintln!("\n{why}");
                if p.existing
                    .as_ref()
                    .is_some_and(|d| d.lifecycle_state == rt_core::LifecycleState::Retired)
                {
                    eprintln!("Nothing was changed.");
                    return Ok(1);
                }
                eprintln!("Sign in with credentials that may re-enroll it, or press Esc to stop.");
                auth = ask_auth(&server, None)?;
            }
            Ok(None) => break None, // an older server: it will say so at enrollment
            Err(e) => {
                eprintln!("\nThe server refused: {e:#}\nPlease try again.");
                auth = ask_auth(&server, None)?;
            }
        }
    };
    if let Some(d) = &known {
        eprintln!(
            "\nThis hardware is already known to the server as device {}{}{}, last seen {}.\n\
             Enrolling again re-enrolls it: the device keeps its id, history and assignment, and \
             the token of the agent installed before is revoked.",
            d.id,
            d.name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default(),
            d.assignee
                .as_deref()
                .map(|a| format!(", assigned to {a}"))
                .unwrap_or_else(|| ", not assigned".into()),
            d.last_seen
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "never".into()),
        );
    }
    let current_name = known.as_ref().and_then(|d| d.name.clone());
    let default_name = args
        .name
        .clone()
        .or_else(|| current_name.clone())
        .or_else(|| existing.as_ref().and_then(|c| c.device_name.clone()))
        .unwrap_or_else(|| inventory.hostname.clone());
    let name: String = Input::with_theme(&t)
        .with_prompt("Device name")
        .default(default_name)
        .validate_with(|s: &String| {
            if s.trim().is_empty() {
                Err("the device name cannot be empty")
            } else if s.chars().count() > 128 {
                Err("at most 128 characters")
            } else {
                Ok(())
            }
        })
        .interact_text()?;
    let asset_tag: String = Input::with_theme(&t)
        .with_prompt("Asset tag (optional, Enter to skip)")
        .default(args.asset_tag.clone().unwrap_or_default())
        .allow_empty(true)
        .show_default(args.asset_tag.is_some())
        .interact_text()?;
    let default_assignee = args.assignee.clone().or_else(signed_in_user);
    let assignee: String = Input::with_theme(&t)
        .with_prompt("Assigned to (user name, optional)")
        .default(default_assignee.clone().unwrap_or_default())
        .show_default(default_assignee.is_some())
        .allow_empty(true)
        .interact_text()?;
    let interval_s = ask_interval(args.interval.as_deref())?;
    let sched = ask_scheduler()?;

    let name = name.trim().to_string();
    if let Some(cur) = current_name.as_deref().filter(|c| *c != name) {
        eprintln!("  the device will be renamed from \"{cur}\" to \"{name}\"");
    }
    let mut answers = Answers {
        server: server.clone(),
        auth: auth.clone(),
        name,
        asset_tag: Some(asset_tag.trim().to_string()).filter(|s| !s.is_empty()),
        assignee: Some(assignee.trim().to_string()).filter(|s| !s.is_empty()),
        interval_s,
        scheduler: sched,
    };

    loop {
        summary(&answers, store_kind, state);
        let go = Confirm::with_theme(&t)
            .with_prompt("Enroll this device now?")
            .default(true)
            .interact_opt()?;
        if go != Some(true) {
            eprintln!("Nothing was changed.");
            return Ok(EXIT_CANCELLED);
        }
        match commit(
            state,
            &answers,
            store_kind,
            inventory.clone(),
            existing.is_some(),
        ) {
            Ok(code) => return Ok(code),
            Err(CommitError::Refused(msg)) => {
                // Wrong token or credentials (or server changed its mind): re-ask and confirm again.
                eprintln!("\nThe server refused the enrollment: {msg}\nPlease try again.");
                auth = ask_auth(&server, None)?;
                answers.auth = auth.clone();
            }
            Err(CommitError::Unreachable(msg)) => {
                eprintln!("\n{msg}");
                server = ask_server(Some(server.url.clone()), server.ca_file.clone())?;
                answers.server = server.clone();
            }
            Err(CommitError::Fatal(e)) => return Err(Stop::Failed(e)),
        }
    }
}

fn to_enroll_auth(a: &Auth) -> EnrollAuth {
    match a {
        Auth::Token(t) => EnrollAuth::Token(t.clone()),
        Auth::Password { username, password } => EnrollAuth::Password {
            username: username.clone(),
            password: password.clone(),
        },
    }
}

fn signed_in_user() -> Option<String> {
    ["SUDO_USER", "USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty() && u != "root")
}

/// Asks for the URL until `/livez` answers like an rt-server (verified with `ca_file`'s CAs
/// when given).
fn ask_server(
    initial: Option<String>,
    ca_file: Option<std::path::PathBuf>,
) -> Step<enroll::Server> {
    let t = theme();
    let mut last = initial.unwrap_or_default();
    loop {
        let mut input = Input::<String>::with_theme(&t)
            .with_prompt("Server URL (e.g. https://rt.example.com)")
            .validate_with(|s: &String| {
                enroll::normalize_server_url(s)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        if !last.is_empty() {
            input = input.with_initial_text(last.clone());
        }
        let typed = input.interact_text()?;
        let url = enroll::normalize_server_url(&typed).map_err(Stop::Failed)?;
        eprintln!("  checking {url}/livez ...");
        let server = enroll::Server {
            url,
            ca_file: ca_file.clone(),
        };
        match check_server(&server) {
            Ok(()) => {
                eprintln!("  ✔ found a ResourceTracker server at {}", server.url);
                return Ok(server);
            }
            Err(problem) => {
                eprintln!("  ✘ {problem}");
                last = typed;
            }
        }
    }
}

/// Checks that `url` serves rt-server's `/livez`. The error says what went wrong in words a
/// device user can act on.
pub fn check_server(server: &enroll::Server) -> std::result::Result<(), String> {
    let url = server.url.as_str();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    rt.block_on(async {
        let client = crate::upload::http_client(
            Duration::from_secs(5),
            Duration::from_secs(10),
            server.ca_file.as_deref(),
        )
        .map_err(|e| format!("{e:#}"))?;
        let resp = client
            .get(format!("{url}/livez"))
            .send()
            .await
            .map_err(|e| describe_http_error(server, &e))?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        let looks_right = status.is_success()
            && serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(String::from))
                .is_some_and(|s| s == "ok");
        if looks_right {
            Ok(())
        } else {
            Err(format!(
                "{url} answers, but not like a ResourceTracker server (GET /livez gave HTTP {}); \
                 check the address and port",
                status.as_u16()
            ))
        }
    })
}

fn describe_http_error(server: &enroll::Server, e: &reqwest::Error) -> String {
    let url = server.url.as_str();
    let mut chain = String::new();
    let mut refused = false;
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        src = s.source();
    }
    let host = url.split("://").nth(1).unwrap_or(url);
    if chain.contains("dns") || chain.contains("lookup") || chain.contains("resolve") {
        format!("cannot find the host in {host:?} (DNS lookup failed); check the spelling")
    } else if refused || chain.contains("refused") {
        format!(
            "nothing is listening at {host} (connection refused); check the port, and that the server runs"
        )
    } else if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("ssl")
        || chain.contains("handshake")
    {
        if let Some(hint) =
            rt_client::tls::untrusted_certificate_hint(&chain, server.ca_file.as_deref())
        {
            format!("secure connection to {host} failed: {hint}")
        } else if url.starts_with("https://") {
            format!(
                "secure connection to {host} failed (TLS): the certificate is not trusted or the \
                 server does not speak HTTPS on this port; try http:// if it is plain HTTP"
            )
        } else {
            format!("connection to {host} failed during the TLS handshake")
        }
    } else if e.is_timeout() {
        format!("{host} did not answer within 10 s; check the address and the network")
    } else if chain.contains("invalid http") || chain.contains("parse") || e.is_decode() {
        format!(
            "{host} does not speak HTTP like a ResourceTracker server; if it uses HTTPS, use https://"
        )
    } else {
        format!("cannot reach {host}: {e}")
    }
}

fn ask_auth(server: &enroll::Server, username: Option<String>) -> Step<Auth> {
    let t = theme();
    let choice = Select::with_theme(&t)
        .with_prompt("How do you want to sign in?")
        .items([
            "Enrollment token (from your IT admin)",
            "User name and password",
        ])
        .default(usize::from(username.is_some()))
        .interact_opt()?
        .ok_or(Stop::Cancelled)?;
    if choice == 0 {
        let token = Password::with_theme(&t)
            .with_prompt("Enrollment token (hidden)")
            .validate_with(|s: &String| {
                if s.trim().is_empty() {
                    Err("the token cannot be empty")
                } else {
                    Ok(())
                }
            })
            .interact()?;
        return Ok(Auth::Token(Secret::new(token.trim())));
    }
    let mut user_default = username;
    loop {
        let mut input = Input::<String>::with_theme(&t).with_prompt("User name");
        if let Some(u) = &user_default {
            input = input.default(u.clone());
        }
        let username: String = input.interact_text()?;
        let password = Password::with_theme(&t)
            .with_prompt("Password (hidden)")
            .interact()?;
        let password = Secret::new(password);
        match check_login(server, username.trim(), &password) {
            Ok(()) => {
                eprintln!("  ✔ signed in as {}", username.trim());
                return Ok(Auth::Password {
                    username: username.trim().to_string(),
                    password,
                });
            }
            Err(msg) => {
                eprintln!("  ✘ {msg}");
                user_default = Some(username);
            }
        }
    }
}

/// Checks user name and password at `/api/v1/auth/login` so a typo is re-asked right away.
fn check_login(
    server: &enroll::Server,
    username: &str,
    password: &Secret,
) -> std::result::Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    rt.block_on(async {
        let client = crate::upload::http_client(
            Duration::from_secs(5),
            Duration::from_secs(30),
            server.ca_file.as_deref(),
        )
        .map_err(|e| format!("{e:#}"))?;
        let resp = client
            .post(format!("{}/api/v1/auth/login", server.url))
            .json(&rt_core::api::LoginRequest {
                username: username.to_string(),
                password: password.expose().to_string(),
            })
            .send()
            .await
            .map_err(|e| describe_http_error(server, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body = resp.bytes().await.unwrap_or_default();
        let detail = serde_json::from_slice::<rt_core::ErrorBody>(&body)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
        Err(match status.as_u16() {
            401 | 403 => format!("wrong user name or password ({detail})"),
            429 => format!("too many attempts; wait a minute and try again ({detail})"),
            _ => format!("sign-in failed: {detail}"),
        })
    })
}

fn ask_interval(flag: Option<&str>) -> Step<Option<u64>> {
    let t = theme();
    let initial = flag.unwrap_or("server default").to_string();
    let answer: String = Input::with_theme(&t)
        .with_prompt(
            "Collection interval (e.g. 5m, 15m, 1h; \"server default\" uses the server's setting)",
        )
        .default(initial)
        .validate_with(|s: &String| {
            let s = s.trim();
            if s.eq_ignore_ascii_case("server default") || s.eq_ignore_ascii_case("server") {
                return Ok(());
            }
            match scheduler::parse_interval(s) {
                Ok(secs) if secs < 60 => Err("at least 1m".to_string()),
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
        .interact_text()?;
    let a = answer.trim();
    if a.eq_ignore_ascii_case("server default") || a.eq_ignore_ascii_case("server") {
        return Ok(None);
    }
    Ok(Some(scheduler::parse_interval(a).map_err(Stop::Failed)?))
}

fn ask_scheduler() -> Step<Option<SchedulerKind>> {
    let t = theme();
    let host = Host::from_env().map_err(Stop::Failed)?;
    let detected = host.detect().ok();
    let mut kinds: Vec<SchedulerKind> = vec![];
    if let Some(d) = detected {
        kinds.push(d);
    }
    let platform: &[SchedulerKind] = if cfg!(windows) {
        &[SchedulerKind::Windows]
    } else if cfg!(target_os = "macos") {
        &[SchedulerKind::Launchd]
    } else {
        &[SchedulerKind::Systemd, SchedulerKind::Cron]
    };
    for k in platform {
        if !kinds.contains(k) {
            kinds.push(*k);
        }
    }
    let mut items: Vec<String> = kinds
        .iter()
        .map(|k| {
            let what = match k {
                SchedulerKind::Systemd => "systemd timer",
                SchedulerKind::Cron => "cron",
                SchedulerKind::Windows => "Windows Task Scheduler",
                SchedulerKind::Launchd => "launchd",
            };
            if Some(*k) == detected {
                format!("{what} (detected, recommended)")
            } else {
                what.to_string()
            }
        })
        .collect();
    items.push("none (I will run `rt-agent collect` myself)".into());
    let scope = match host.scope {
        scheduler::Scope::System => "machine-wide",
        scheduler::Scope::User => "for this user",
    };
    let pick = Select::with_theme(&t)
        .with_prompt(format!("Run the agent automatically ({scope}) with"))
        .items(&items)
        .default(if detected.is_some() {
            0
        } else {
            items.len() - 1
        })
        .interact_opt()?
        .ok_or(Stop::Cancelled)?;
    Ok(kinds.get(pick).copied())
}

fn summary(a: &Answers, store_kind: StoreKind, state: &StateDir) {
    let auth = match &a.auth {
        Auth::Token(_) => "enrollment token".to_string(),
        Auth::Password { username, .. } => format!("user {username}"),
    };
    let interval = a
        .interval_s
        .map(scheduler::human_interval)
        .unwrap_or_else(|| "the server's default".into());
    let sched = a
        .scheduler
        .map(|k| k.to_string())
        .unwrap_or_else(|| "none".into());
    let store = match store_kind {
        StoreKind::Auto if scheduler::is_privileged() => "0600 file in the state directory",
        StoreKind::Auto => "OS keyring when usable, else a 0600 file",
        StoreKind::Keyring => "OS keyring",
        StoreKind::File => "0600 file",
    };
    eprintln!(
        "\nSummary\n  server        {}\n  sign-in       {auth}\n  device name   {}\n  asset tag     {}\n  assigned to   {}\n  interval      {interval}\n  scheduler     {sched}\n  credential    {store}\n  state dir     {}\n",
        match &a.server.ca_file {
            Some(ca) => format!("{} (CA {})", a.server.url, ca.display()),
            None => a.server.url.clone(),
        },
        a.name,
        a.asset_tag.as_deref().unwrap_or("-"),
        a.assignee.as_deref().unwrap_or("-"),
        state.path().display()
    );
}

enum CommitError {
    /// The server refused the credentials: re-ask them.
    Refused(String),
    /// The server could not be reached: re-ask the URL.
    Unreachable(String),
    Fatal(anyhow::Error),
}

/// What this run created, so an interruption can undo it.
#[derive(Default)]
struct Created {
    state_dir: bool,
    enrolled_fresh: bool,
    schedule: bool,
}

fn commit(
    state: &StateDir,
    a: &Answers,
    store_kind: StoreKind,
    inventory: rt_core::Inventory,
    was_enrolled: bool,
) -> std::result::Result<i32, CommitError> {
    IN_COMMIT.store(true, Ordering::SeqCst);
    let mut created = Created {
        state_dir: !state.path().exists(),
        ..Created::default()
    };
    let had_schedule = scheduler::load_manifest(state.path())
        .ok()
        .flatten()
        .is_some();
    let result = commit_steps(state, a, store_kind, inventory, was_enrolled, &mut created);
    let interrupted = interrupted();
    if interrupted || matches!(result, Err(CommitError::Fatal(_))) && created.enrolled_fresh {
        rollback(state, &created, had_schedule, store_kind);
        IN_COMMIT.store(false, Ordering::SeqCst);
        if interrupted {
            eprintln!("Enrollment interrupted; what it had done was rolled back.");
            let _ = dialoguer::console::Term::stderr().show_cursor();
            restore_tty();
            return Ok(EXIT_CANCELLED);
        }
    }
    IN_COMMIT.store(false, Ordering::SeqCst);
    result
}

fn commit_steps(
    state: &StateDir,
    a: &Answers,
    store_kind: StoreKind,
    inventory: rt_core::Inventory,
    was_enrolled: bool,
    created: &mut Created,
) -> std::result::Result<i32, CommitError> {
    let fatal = CommitError::Fatal;
    eprintln!("Enrolling with {} ...", a.server.url);
    let auth = match &a.auth {
        Auth::Token(t) => EnrollAuth::Token(t.clone()),
        Auth::Password { username, password } => EnrollAuth::Password {
            username: username.clone(),
            password: password.clone(),
        },
    };
    let resp = match enroll::enroll_with(
        &a.server,
        auth,
        inventory,
        Some(a.name.clone()),
        a.asset_tag.clone(),
        a.assignee.clone(),
        store_kind,
        state,
    ) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("{e:#}");
            if msg.contains("enrollment refused") {
                return Err(CommitError::Refused(msg));
            }
            if msg.contains("cannot reach the server") {
                return Err(CommitError::Unreachable(msg));
            }
            return Err(fatal(e));
        }
    };
    created.enrolled_fresh = !was_enrolled;
    if interrupted() {
        return Ok(EXIT_CANCELLED);
    }
    let mut cfg = state.require_config().map_err(fatal)?;
    if let Some(i) = a.interval_s {
        cfg.collection_interval_s = u32::try_from(i).unwrap_or(u32::MAX);
        state.save_config(&cfg).map_err(fatal)?;
    }
    let interval_s = u64::from(cfg.collection_interval_s).max(60);
    let store_used = match cfg.credential_store {
        StoreKind::Keyring => "the OS keyring",
        _ => "a 0600 file in the state directory",
    };
    eprintln!(
        "  ✔ device {} {} (token kept in {store_used})",
        resp.device_id,
        if resp.re_enrolled {
            "re-enrolled"
        } else {
            "enrolled"
        }
    );

    let mut schedule_note = "no schedule installed (you chose none)".to_string();
    if let Some(kind) = a.scheduler {
        let host = Host::from_env().map_err(fatal)?;
        let spec = scheduler::spec_for(
            Choice::Kind(kind),
            &format!("{interval_s}s"),
            "timer",
            state.path(),
            &host,
        )
        .map_err(fatal)?;
        if let Some(spec) = spec {
            created.schedule = true;
            match scheduler::install(&spec, &host, false) {
                Ok(report) => {
                    scheduler::print_report(&report);
                    schedule_note = format!(
                        "{kind} runs it every {}",
                        scheduler::human_interval(interval_s)
                    );
                }
                Err(e) => {
                    // Enrollment stands; only the schedule is missing. Say how to finish.
                    let _ = scheduler::uninstall(state.path());
                    created.schedule = false;
                    eprintln!(
                        "  ✘ could not install the {kind} schedule: {e:#}\n    \
                         the device is enrolled; install a schedule later with `rt-agent install`"
                    );
                    schedule_note = "no schedule installed (see the error above)".into();
                }
            }
        }
    }
    if interrupted() {
        return Ok(EXIT_CANCELLED);
    }

    eprintln!("Collecting and uploading the first sample ...");
    let delivered = first_sample(state).map_err(fatal)?;
    if delivered {
        eprintln!(
            "\n✔ device {} enrolled, first sample delivered; {schedule_note}.",
            resp.device_id
        );
    } else {
        eprintln!(
            "\n✔ device {} enrolled; the first sample is queued and will be uploaded on the next run; \
             {schedule_note}.",
            resp.device_id
        );
    }
    eprintln!("  `rt-agent status` shows the agent's state at any time.");
    Ok(0)
}

/// Runs `rt-agent collect` for this state directory as its own process (the same code path as
/// the schedule) and reports whether the sample reached the server.
fn first_sample(state: &StateDir) -> Result<bool> {
    let exe = std::env::current_exe().context("cannot find the rt-agent executable")?;
    let out = std::process::Command::new(exe)
        .arg("--state-dir")
        .arg(state.path())
        .arg("collect")
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot run rt-agent collect")?;
    let text = String::from_utf8_lossy(&out.stderr);
    for line in text.lines() {
        eprintln!("  {line}");
    }
    Ok(out.status.success() && text.contains("uploaded") && !text.contains("uploaded 0 sample"))
}

fn rollback(state: &StateDir, created: &Created, had_schedule: bool, store_kind: StoreKind) {
    if created.schedule && !had_schedule {
        match scheduler::uninstall(state.path()) {
            Ok(r) => scheduler::print_report(&r),
            Err(e) => eprintln!("  warning: could not remove the schedule: {e:#}"),
        }
    }
    if !created.enrolled_fresh {
        return;
    }
    if let Ok(opened) = state.credential_store(store_kind) {
        let _ = opened.store.delete();
    }
    if created.state_dir {
        let _ = std::fs::remove_dir_all(state.path());
    } else {
        for p in [state.config_path(), state.upload_state_path()] {
            let _ = std::fs::remove_file(p);
        }
    }
}
