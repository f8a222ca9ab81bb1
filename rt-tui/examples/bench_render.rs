//! Benchmark: time to render one fleet-view frame with 10,000 devices on ratatui's TestBackend,
//! through the console's own render path (`rt_tui::tui::ui::render`).
//!
//! ```text
//! cargo run --release -p rt-tui --example bench_render -- [--devices 10000] [--iterations 2000] [--size 200x50]
//! ```
//!
//! Prints one JSON line per terminal size with mean, p50 and p99 microseconds per frame (a frame
//! = `Terminal::draw`: layout, widgets, buffer diff and the TestBackend "flush"), plus the one-off
//! cost of loading the fleet into the state (`App::set_devices`: filter and sort).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rt_tui::fixtures;
use rt_tui::tui::state::{App, Theme};
use rt_tui::tui::ui;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--devices").map_or(Ok(10_000), |v| v.parse())?;
    let iterations: usize = arg(&args, "--iterations").map_or(Ok(2000), |v| v.parse())?;
    let sizes: Vec<(u16, u16)> = match arg(&args, "--size") {
        Some(s) => {
            let (w, h) = s
                .split_once('x')
                .ok_or_else(|| anyhow::anyhow!("--size WxH"))?;
            vec![(w.parse()?, h.parse()?)]
        }
        None => vec![(80, 24), (200, 50)],
    };
    let fleet = fixtures::big_fleet(n);
    let theme = Theme {
        color: true,
        ascii: false,
    };
    for (w, h) in sizes {
        let mut app = App::new("http://127.0.0.1:8080", theme, fixtures::now());
        let started = Instant::now();
        app.set_devices(fleet.clone(), Some(fixtures::summary()));
        let load_us = started.elapsed().as_secs_f64() * 1e6;
        app.table_rows = ui::fleet_table_rows(&app, h);
        let mut term = Terminal::new(TestBackend::new(w, h))?;
        // Warm-up.
        for _ in 0..50 {
            term.draw(|f| ui::render(f, &app))?;
        }
        let mut times = Vec::with_capacity(iterations);
        let total = Instant::now();
        for i in 0..iterations {
            // Move the selection so that frames differ, as when scrolling.
            app.selected = (i * 7) % n.max(1);
            app.offset = app.selected.saturating_sub(app.table_rows / 2);
            let t = Instant::now();
            term.draw(|f| ui::render(f, &app))?;
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let mean = total.elapsed().as_secs_f64() * 1e6 / iterations.max(1) as f64;
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"devices\":{n},\"width\":{w},\"height\":{h},\"iterations\":{iterations},\"mean_us\":{mean:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"set_devices_us\":{load_us:.0}}}",
            pct(&times, 50.0),
            pct(&times, 99.0)
        );
    }
    Ok(())
}
