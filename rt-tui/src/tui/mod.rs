//! The interactive console. The UI thread owns the terminal and the [`state::App`]; network
//! work runs on the tokio runtime ([`fetch`]) and comes back over a channel, so a slow or dead
//! server never freezes the screen.

pub mod fetch;
pub mod keys;
pub mod state;
pub mod ui;

use crate::Ctx;
use crate::client::ClientError;
use ratatui::crossterm::event::{self, Event};
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

    // ratatui::init enters the alternate screen, enables raw mode and installs a panic hook
    // that restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &fetcher, &rx, refresh_s);
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
) -> anyhow::Result<()> {
    let refresh = Duration::from_secs(refresh_s.max(1));
    let retry = Duration::from_secs(3).min(refresh);
    let mut last_fleet = Instant::now();
    let mut last_detail = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut dirty = true;
    if let Some(r) = app.request(Request::Fleet) {
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
            match event::read()? {
                Event::Key(k) => {
                    for r in keys::handle_key(app, k) {
                        fetcher.send(r);
                    }
                    dirty = true;
                }
                Event::Resize(..) => {
                    app.clamp_selection();
                    dirty = true;
                }
                _ => {}
            }
        }
        while let Ok(resp) = rx.try_recv() {
            for r in app.apply(resp) {
                fetcher.send(r);
            }
            dirty = true;
        }
        // Auto-refresh; retry sooner while the server is unreachable.
        let every = match app.conn {
            ConnState::Reconnecting { .. } | ConnState::Connecting => retry,
            _ => refresh,
        };
        if !matches!(app.conn, ConnState::AuthFailed(_)) && last_fleet.elapsed() >= every {
            if let Some(r) = app.request(Request::Fleet) {
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
