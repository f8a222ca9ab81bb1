//! The interactive console. The UI thread owns the terminal and the [`state::App`]; network
//! work runs on the tokio runtime ([`fetch`]) and comes back over a channel, so a slow or dead
//! server never freezes the screen.

pub mod alerts;
pub mod command;
pub mod fetch;
pub mod keys;
pub mod state;
pub mod ui;

use crate::Ctx;
use crate::client::ClientError;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use state::{App, ConnState, Request, Screen, Theme};
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs the TUI until the user quits.
pub fn run(ctx: &Ctx, rt: &tokio::runtime::Runtime, refresh_s: u64) -> anyhow::Result<()> {
    let client = ctx.client()?;
    if !std::io::stdout().is_terminal() {
        return Err(crate::UsageError(
            "the console needs a terminal; for scripts use `rt-tui devices --json` or `rt-tui export`".into(),
        )
        .into());
    }
    let theme = Theme::detect(ctx.ascii);
    let server = client.base().as_str().trim_end_matches('/').to_string();
    let (tx, rx) = mpsc::channel();
    let fetcher = fetch::Fetcher::new(client, rt.handle().clone(), tx);
    let mut app = App::new(server, theme, chrono::Utc::now());
    // Saved views live in the console's config; a broken file was reported by Ctx already.
    app.views = crate::config::load(&ctx.config_dir)
        .map(|c| c.views)
        .unwrap_or_default();

    // ratatui::init enters the alternate screen, enables raw mode and installs a panic hook
    // that restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    // Mouse wheel and clicks where the terminal reports them (hold Shift to select text).
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, &mut app, &fetcher, &rx, refresh_s, ctx);
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result?;
    if let ConnState::AuthFailed(e) = &app.conn {
        // Leave with the documented exit code when the token was refused.
        eprintln!("rt-tui: {e}");
        return Err(ClientError::Unauthorized("the server refused the token".into()).into());
    }
    Ok(())
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    fetcher: &fetch::Fetcher,
    rx: &mpsc::Receiver<state::Response>,
    refresh_s: u64,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let refresh = Duration::from_secs(refresh_s.max(1));
    let retry = Duration::from_secs(3).min(refresh);
    let mut last_fleet = Instant::now();
    let mut last_detail = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut dirty = true;
    for r in app.refresh_requests() {
        fetcher.send(r);
    }
    while !app.quit {
        app.now = chrono::Utc::now();
        let size = terminal.size()?;
        app.table_rows = ui::fleet_table_rows(app, size.height);
        if dirty || last_draw.elapsed() >= Duration::from_secs(1) {
            terminal.draw(|f| ui::render(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
        if event::poll(Duration::from_millis(100))? {
            let reqs = match event::read()? {
                Event::Key(k) => keys::handle_key(app, k),
                Event::Mouse(m) => keys::handle_mouse(app, m, ui::fleet_first_row_y(app)),
                Event::Resize(..) => {
                    app.clamp_selection();
                    Vec::new()
                }
                _ => Vec::new(),
            };
            for r in reqs {
                send(app, fetcher, ctx, r);
            }
            dirty = true;
        }
        while let Ok(resp) = rx.try_recv() {
            for r in app.apply(resp) {
                send(app, fetcher, ctx, r);
            }
            dirty = true;
        }
        // Auto-refresh; retry sooner while the server is unreachable.
        let every = match app.conn {
            ConnState::Reconnecting { .. } | ConnState::Connecting => retry,
            _ => refresh,
        };
        if !matches!(app.conn, ConnState::AuthFailed(_)) && last_fleet.elapsed() >= every {
            for r in app.refresh_requests() {
                fetcher.send(r);
            }
            last_fleet = Instant::now();
        }
        if app.screen == Screen::Detail && last_detail.elapsed() >= refresh {
            for r in app.detail_requests() {
                fetcher.send(r);
            }
            last_detail = Instant::now();
        }
    }
    Ok(())
}

/// Sends a request to the fetcher, except saving views, which is local and quick.
fn send(app: &mut App, fetcher: &fetch::Fetcher, ctx: &Ctx, r: Request) {
    match r {
        Request::SaveViews(views) => {
            app.pending.remove(&state::ReqKind::SaveViews);
            let saved = crate::config::load(&ctx.config_dir).and_then(|mut c| {
                c.views = views;
                crate::config::save(&ctx.config_dir, &c)
            });
            if let Err(e) = saved {
                app.status = Some(state::Status {
                    text: format!("views not saved: {e}"),
                    error: true,
                });
            }
        }
        other => fetcher.send(other),
    }
}
