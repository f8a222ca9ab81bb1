//! The console's state: everything the render functions draw, and nothing about terminals or
//! sockets. Changed only by key handling ([`super::keys`]) and by fetch results ([`App::apply`]).

use super::alerts::{AlertAction, AlertScope, AlertsState};
use crate::client::ClientError;
use crate::config::SavedView;
use crate::filter::{Filter, SortKey, Triage, filter_and_sort_at, triage_rank};
use chrono::{DateTime, Utc};
use rt_core::alert::api::AlertInfo;
use rt_core::api::{
    DeviceDetail, DeviceEvent, DevicePatch, DeviceSummary, FleetSummary, HealthLevel,
    MetricsResponse, Resolution,
};
use rt_core::{DeviceId, LifecycleState};
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

/// Display options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False under NO_COLOR: monochrome, markers and modifiers only.
    pub color: bool,
    /// ASCII sparklines and borders (--ascii, or a non-UTF-8 locale).
    pub ascii: bool,
}

impl Theme {
    /// From the environment: NO_COLOR (any non-empty value) and the locale.
    pub fn detect(force_ascii: bool) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            ascii: force_ascii || !locale_is_utf8(),
        }
    }
}

/// True when LC_ALL / LC_CTYPE / LANG (the first one set) names UTF-8.
pub fn locale_is_utf8() -> bool {
    if cfg!(windows) {
        return true;
    }
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            let v = v.to_ascii_lowercase();
            return v.contains("utf-8") || v.contains("utf8");
        }
    }
    false
}

/// Connection to the server as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// The last refresh failed; the data shown is from `last_ok` (if any).
    Reconnecting {
        error: String,
        since: DateTime<Utc>,
    },
    /// The token was refused: retrying will not help.
    AuthFailed(String),
}

/// History window of the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    H1,
    H24,
    D7,
    D30,
    D90,
    Y1,
}

impl Window {
    pub const ALL: [Window; 6] = [
        Window::H1,
        Window::H24,
        Window::D7,
        Window::D30,
        Window::D90,
        Window::Y1,
    ];

    pub fn seconds(self) -> i64 {
        match self {
            Window::H1 => 3_600,
            Window::H24 => 86_400,
            Window::D7 => 7 * 86_400,
            Window::D30 => 30 * 86_400,
            Window::D90 => 90 * 86_400,
            Window::Y1 => 365 * 86_400,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::H1 => "1h",
            Window::H24 => "24h",
            Window::D7 => "7d",
            Window::D30 => "30d",
            Window::D90 => "90d",
            Window::Y1 => "1y",
        }
    }

    pub fn parse(s: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.label() == s)
    }

    pub fn resolution(self) -> Resolution {
        Resolution::for_window(self.seconds())
    }

    pub fn next(self) -> Window {
        let i = Window::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Window::ALL[(i + 1) % Window::ALL.len()]
    }
}

/// What the detail screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub id: DeviceId,
    pub detail: Option<DeviceDetail>,
    pub metrics: Option<MetricsResponse>,
    pub events: Vec<DeviceEvent>,
    /// First event shown (events are newest first); PgUp/PgDn page through them.
    pub events_offset: usize,
    pub window: Window,
    pub error: Option<String>,
    /// The device's firing alerts (`GET /alerts?device=ID&state=firing`); `None` until loaded.
    pub alerts: Option<Vec<AlertInfo>>,
    /// Where Esc goes back to (the fleet, or the alerts screen it was opened from).
    pub back: Screen,
}

/// How many events the detail screen asks for (the newest); paging is local.
pub const EVENTS_LIMIT: u32 = 200;

/// Which text an input box edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Assign,
    /// Assign every marked device.
    BulkAssign,
    AssetTag,
    Notes,
}

impl InputKind {
    pub fn title(self) -> &'static str {
        match self {
            InputKind::Assign | InputKind::BulkAssign => "Assign to (user name; empty to unassign)",
            InputKind::AssetTag => "Asset tag",
            InputKind::Notes => "Notes",
        }
    }
}

/// A pending change, confirmed by the user before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub id: DeviceId,
    pub patch: DevicePatch,
    /// "assign build-07 to alice"
    pub description: String,
    /// Part of a bulk action: the result counts into [`App::bulk`] instead of its own status.
    pub bulk: bool,
}

/// A change to several devices, confirmed once with the full list.
#[derive(Debug, Clone, PartialEq)]
pub enum Bulk {
    /// PATCHes, one per device; `summary` is the one-line title ("assign 2 devices to alice").
    Patch {
        summary: String,
        actions: Vec<Action>,
    },
    /// A CSV of the marked devices' rows, written to `path`.
    Export { path: PathBuf, ids: Vec<DeviceId> },
}

impl Bulk {
    pub fn title(&self) -> String {
        match self {
            Bulk::Patch { summary, .. } => summary.clone(),
            Bulk::Export { path, ids } => {
                format!("export {} devices to {}", ids.len(), path.display())
            }
        }
    }
}

/// Progress of a bulk change being sent.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkProgress {
    pub summary: String,
    pub total: usize,
    pub done: usize,
    pub failed: Vec<String>,
}

/// A popup over the current screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    /// The keys of the current screen; `scroll` when they do not fit.
    Help {
        scroll: usize,
    },
    Input {
        kind: InputKind,
        id: DeviceId,
        name: String,
        value: String,
    },
    PickState {
        /// One device, or every marked one (bulk).
        ids: Vec<DeviceId>,
        name: String,
        from: Option<LifecycleState>,
        options: Vec<LifecycleState>,
        selected: usize,
    },
    Confirm(Action),
    /// The duration of a silence, read with the one duration grammar when Enter is pressed.
    SilenceFor {
        alert: Box<AlertInfo>,
        value: String,
    },
    /// Acknowledge or silence one alert.
    ConfirmAlert(AlertAction),
    /// One confirmation for a change to several devices, listing each; `scroll` pages it.
    ConfirmBulk {
        bulk: Bulk,
        scroll: usize,
    },
}

/// The `:` command bar being edited.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandLine {
    pub text: String,
    /// Which completion Tab picked last (cycles).
    pub completion: Option<usize>,
    /// The text before Tab started cycling.
    pub stem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Fleet,
    Detail,
    Alerts,
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// Requests to the background fetcher.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The fleet from the top: the first page is applied at once, the rest follows.
    Fleet,
    Detail(DeviceId),
    Metrics(DeviceId, Window),
    Events(DeviceId),
    Patch(Action),
    /// Write these rows as CSV to the path (bulk export).
    Export(PathBuf, Vec<DeviceSummary>),
    /// Store the saved views in the console's config (not network; the run loop does it).
    SaveViews(Vec<SavedView>),
    /// The alerts of a scope (the header's firing count comes from them too).
    Alerts(AlertScope),
    /// One device's firing alerts, for its detail screen.
    DeviceAlerts(DeviceId),
    /// Acknowledge or silence an alert.
    Alert(AlertAction),
}

/// At most one request of each kind is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReqKind {
    Fleet,
    Detail,
    Metrics,
    Events,
    Patch,
    Export,
    SaveViews,
    Alerts,
    DeviceAlerts,
    AlertAction,
}

impl Request {
    pub fn kind(&self) -> ReqKind {
        match self {
            Request::Fleet => ReqKind::Fleet,
            Request::Detail(_) => ReqKind::Detail,
            Request::Metrics(..) => ReqKind::Metrics,
            Request::Events(_) => ReqKind::Events,
            Request::Patch(_) => ReqKind::Patch,
            Request::Export(..) => ReqKind::Export,
            Request::SaveViews(_) => ReqKind::SaveViews,
            Request::Alerts(_) => ReqKind::Alerts,
            Request::DeviceAlerts(_) => ReqKind::DeviceAlerts,
            Request::Alert(_) => ReqKind::AlertAction,
        }
    }
}

/// One page of the fleet as it arrives: `last` when the whole fleet is in.
#[derive(Debug)]
pub struct FleetPage {
    pub items: Vec<DeviceSummary>,
    /// Devices on the server (the total of the page answer).
    pub total: u64,
    pub last: bool,
    pub summary: Option<FleetSummary>,
}

/// Results from the fetcher.
#[derive(Debug)]
pub enum Response {
    /// A page of the fleet: the first (the devices that need a person) is shown at once on
    /// the first load; the last holds the whole fleet.
    FleetPage(Result<FleetPage, ClientError>),
    /// The whole fleet at once (tests, small fleets).
    Fleet(Result<(Vec<DeviceSummary>, Option<FleetSummary>), ClientError>),
    Detail(DeviceId, Result<DeviceDetail, ClientError>),
    Metrics(DeviceId, Window, Result<MetricsResponse, ClientError>),
    Events(DeviceId, Result<Vec<DeviceEvent>, ClientError>),
    Patched(Action, Result<DeviceDetail, ClientError>),
    /// Bulk export written: path and rows, or why not.
    Exported(PathBuf, Result<usize, String>),
    Alerts(AlertScope, Result<Vec<AlertInfo>, ClientError>),
    DeviceAlerts(DeviceId, Result<Vec<AlertInfo>, ClientError>),
    /// The server's answer to an ack or silence: the alert as stored now.
    AlertActed(AlertAction, Result<AlertInfo, ClientError>),
}

impl Response {
    pub fn kind(&self) -> ReqKind {
        match self {
            Response::Fleet(_) | Response::FleetPage(_) => ReqKind::Fleet,
            Response::Detail(..) => ReqKind::Detail,
            Response::Metrics(..) => ReqKind::Metrics,
            Response::Events(..) => ReqKind::Events,
            Response::Patched(..) => ReqKind::Patch,
            Response::Exported(..) => ReqKind::Export,
            Response::Alerts(..) => ReqKind::Alerts,
            Response::DeviceAlerts(..) => ReqKind::DeviceAlerts,
            Response::AlertActed(..) => ReqKind::AlertAction,
        }
    }
}

/// Header counts: what `health:LEVEL` lists, split offline into long silence and asleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: u64,
    pub critical: u64,
    pub warning: u64,
    pub offline: u64,
    /// Of `offline`: silent for less than a day (asleep).
    pub asleep: u64,
    pub ok: u64,
    pub unknown: u64,
}

/// The whole state of the console.
#[derive(Debug, Clone)]
pub struct App {
    /// "Now" for relative times; the run loop sets it every tick, tests fix it.
    pub now: DateTime<Utc>,
    pub server: String,
    pub devices: Vec<DeviceSummary>,
    pub summary: Option<FleetSummary>,
    /// Devices on the server, from the last page answer; more than `devices.len()` while
    /// the rest loads in the background.
    pub server_total: Option<u64>,
    /// Indices into `devices` after filter and sort.
    pub order: Vec<usize>,
    pub filter_text: String,
    pub filter: Filter,
    pub filter_error: Option<String>,
    pub editing_filter: bool,
    pub sort: SortKey,
    pub descending: bool,
    /// Selected position in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    /// Table rows that fit on screen (set by the run loop from the terminal size).
    pub table_rows: usize,
    /// Devices marked for a bulk action.
    pub marked: BTreeSet<DeviceId>,
    pub command: Option<CommandLine>,
    /// Named filter + sort, from the console's config.
    pub views: Vec<SavedView>,
    pub bulk: Option<BulkProgress>,
    pub conn: ConnState,
    pub last_refresh: Option<DateTime<Utc>>,
    pub screen: Screen,
    pub detail: Option<DetailState>,
    pub alerts: AlertsState,
    pub modal: Option<Modal>,
    pub status: Option<Status>,
    pub theme: Theme,
    pub pending: HashSet<ReqKind>,
    pub quit: bool,
}

impl App {
    pub fn new(server: impl Into<String>, theme: Theme, now: DateTime<Utc>) -> App {
        App {
            now,
            server: server.into(),
            devices: Vec::new(),
            summary: None,
            server_total: None,
            order: Vec::new(),
            filter_text: String::new(),
            filter: Filter::default(),
            filter_error: None,
            editing_filter: false,
            sort: SortKey::Health,
            descending: true,
            selected: 0,
            offset: 0,
            table_rows: 20,
            marked: BTreeSet::new(),
            command: None,
            views: Vec::new(),
            bulk: None,
            conn: ConnState::Connecting,
            last_refresh: None,
            screen: Screen::Fleet,
            detail: None,
            alerts: AlertsState::default(),
            modal: None,
            status: None,
            theme,
            pending: HashSet::new(),
            quit: false,
        }
    }

    /// Replaces the fleet data, keeping the selected device selected when it still shows.
    pub fn set_devices(&mut self, devices: Vec<DeviceSummary>, summary: Option<FleetSummary>) {
        let keep = self.selected_device().map(|d| d.id);
        self.devices = devices;
        if summary.is_some() {
            self.summary = summary;
        }
        // Marks of devices that are gone go with them.
        let ids: HashSet<DeviceId> = self.devices.iter().map(|d| d.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.reorder(keep);
    }

    /// True while the rest of the fleet is still loading in the background.
    pub fn loading_more(&self) -> bool {
        self.server_total
            .is_some_and(|t| (self.devices.len() as u64) < t)
    }

    /// Header counts. From the devices in memory once the whole fleet is loaded (so that they
    /// equal what `health:` filters list); from the server's summary while loading.
    pub fn counts(&self) -> Counts {
        if (self.loading_more() || self.devices.is_empty())
            && let Some(s) = &self.summary
        {
            let c = |k: &str| s.by_health.get(k).copied().unwrap_or(0);
            return Counts {
                total: s.total,
                critical: c("critical"),
                warning: c("warning"),
                offline: c("offline"),
                asleep: 0,
                ok: c("ok"),
                unknown: c("unknown"),
            };
        }
        let mut n = Counts {
            total: self.devices.len() as u64,
            ..Counts::default()
        };
        for d in &self.devices {
            match d.health.level {
                HealthLevel::Critical => n.critical += 1,
                HealthLevel::Warning => n.warning += 1,
                HealthLevel::Offline => {
                    n.offline += 1;
                    if triage_rank(d, self.now) == Triage::Asleep {
                        n.asleep += 1;
                    }
                }
                HealthLevel::Ok => n.ok += 1,
                HealthLevel::Unknown => n.unknown += 1,
            }
        }
        n
    }

    /// Recomputes `order` after a change of data, filter or sort.
    pub fn reorder(&mut self, keep: Option<DeviceId>) {
        self.order = filter_and_sort_at(
            &self.devices,
            &self.filter,
            self.sort,
            self.descending,
            self.now,
        );
        if let Some(id) = keep
            && let Some(pos) = self.order.iter().position(|&i| self.devices[i].id == id)
        {
            self.selected = pos;
        }
        self.clamp_selection();
    }

    pub fn clamp_selection(&mut self) {
        if self.order.is_empty() {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        self.selected = self.selected.min(self.order.len() - 1);
        let rows = self.table_rows.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        self.offset = self.offset.min(self.order.len().saturating_sub(rows));
    }

    /// Scrolls so that the selection sits in the middle of the table (after a re-sort the
    /// selected device moves; centring it shows it with its new neighbours).
    pub fn center_selection(&mut self) {
        let rows = self.table_rows.max(1);
        self.offset = self.selected.saturating_sub(rows / 2);
        self.clamp_selection();
    }

    pub fn selected_device(&self) -> Option<&DeviceSummary> {
        self.order.get(self.selected).map(|&i| &self.devices[i])
    }

    pub fn device(&self, id: DeviceId) -> Option<&DeviceSummary> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// The marked devices, in table order (marked devices hidden by the filter included, last).
    pub fn marked_devices(&self) -> Vec<&DeviceSummary> {
        let mut out: Vec<&DeviceSummary> = self
            .order
            .iter()
            .map(|&i| &self.devices[i])
            .filter(|d| self.marked.contains(&d.id))
            .collect();
        let shown: HashSet<DeviceId> = out.iter().map(|d| d.id).collect();
        out.extend(
            self.devices
                .iter()
                .filter(|d| self.marked.contains(&d.id) && !shown.contains(&d.id)),
        );
        out
    }

    /// Marks or unmarks the selected device.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_device().map(|d| d.id)
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
    }

    /// Applies the filter line; a bad token keeps the previous filter and shows why.
    pub fn set_filter_text(&mut self, text: String) {
        self.filter_text = text;
        match Filter::parse(&self.filter_text) {
            Ok(f) => {
                self.filter = f;
                self.filter_error = None;
                let keep = self.selected_device().map(|d| d.id);
                self.reorder(keep);
            }
            Err(e) => self.filter_error = Some(e),
        }
    }

    pub fn set_sort(&mut self, key: SortKey) {
        if self.sort == key {
            self.descending = !self.descending;
        } else {
            self.sort = key;
            self.descending = key.default_descending();
        }
        let keep = self.selected_device().map(|d| d.id);
        self.reorder(keep);
        self.center_selection();
    }

    /// Applies a saved view (its filter and sort).
    pub fn apply_view(&mut self, v: &SavedView) -> Result<(), String> {
        Filter::parse(&v.filter)?;
        let key = SortKey::parse(&v.sort)
            .ok_or_else(|| format!("view {:?} has an unknown sort {:?}", v.name, v.sort))?;
        self.sort = key;
        self.descending = v.descending;
        self.set_filter_text(v.filter.clone());
        self.center_selection();
        Ok(())
    }

    /// Saves the current filter and sort as view `name` (replacing one of that name).
    pub fn save_view(&mut self, name: &str) -> SavedView {
        let v = SavedView {
            name: name.to_string(),
            filter: self.filter_text.clone(),
            sort: self.sort.label().to_string(),
            descending: self.descending,
        };
        match self.views.iter_mut().find(|x| x.name == name) {
            Some(slot) => *slot = v.clone(),
            None => self.views.push(v.clone()),
        }
        v
    }

    /// Marks `r` as pending and returns it, unless one of its kind is already in flight.
    pub fn request(&mut self, r: Request) -> Option<Request> {
        if !matches!(
            r.kind(),
            ReqKind::Patch | ReqKind::SaveViews | ReqKind::AlertAction
        ) && self.pending.contains(&r.kind())
        {
            return None;
        }
        self.pending.insert(r.kind());
        Some(r)
    }

    /// The background refresh: the fleet and the alerts (each at most once in flight).
    pub fn refresh_requests(&mut self) -> Vec<Request> {
        let scope = self.alerts.scope;
        [Request::Fleet, Request::Alerts(scope)]
            .into_iter()
            .filter_map(|r| self.request(r))
            .collect()
    }

    /// Opens the detail screen of `id` and returns the requests to load it. Esc goes back to
    /// the screen it was opened from.
    pub fn open_detail(&mut self, id: DeviceId) -> Vec<Request> {
        let window = self.detail.as_ref().map_or(Window::H24, |d| d.window);
        let back = match self.screen {
            Screen::Alerts => Screen::Alerts,
            _ => Screen::Fleet,
        };
        self.detail = Some(DetailState {
            id,
            detail: None,
            metrics: None,
            events: Vec::new(),
            events_offset: 0,
            window,
            error: None,
            alerts: None,
            back,
        });
        self.screen = Screen::Detail;
        // A previous device's answers may still be in flight; allow new ones.
        self.pending.remove(&ReqKind::Detail);
        self.pending.remove(&ReqKind::Metrics);
        self.pending.remove(&ReqKind::Events);
        self.pending.remove(&ReqKind::DeviceAlerts);
        self.detail_requests()
    }

    /// Opens the alerts screen; asks for its alerts unless they are on their way.
    pub fn open_alerts(&mut self) -> Vec<Request> {
        self.screen = Screen::Alerts;
        self.alerts.clamp(self.table_rows);
        let scope = self.alerts.scope;
        self.request(Request::Alerts(scope)).into_iter().collect()
    }

    /// Switches the alerts screen to the next scope and asks for it.
    pub fn cycle_alert_scope(&mut self) -> Vec<Request> {
        self.alerts.scope = self.alerts.scope.next();
        self.alerts.selected = 0;
        self.alerts.offset = 0;
        let scope = self.alerts.scope;
        // One in flight for the old scope is asked again when it lands (see `apply`).
        self.request(Request::Alerts(scope)).into_iter().collect()
    }

    pub fn detail_requests(&mut self) -> Vec<Request> {
        let Some(d) = &self.detail else {
            return Vec::new();
        };
        let (id, w) = (d.id, d.window);
        [
            Request::Detail(id),
            Request::Metrics(id, w),
            Request::Events(id),
            Request::DeviceAlerts(id),
        ]
        .into_iter()
        .filter_map(|r| self.request(r))
        .collect()
    }

    /// Takes a fetch result into the state. Returns follow-up requests.
    pub fn apply(&mut self, resp: Response) -> Vec<Request> {
        let kind = resp.kind();
        let mut follow = Vec::new();
        match resp {
            Response::FleetPage(Ok(page)) => {
                self.conn = ConnState::Connected;
                if page.summary.is_some() {
                    self.summary = page.summary;
                }
                if page.last {
                    self.pending.remove(&kind);
                    self.server_total = Some(page.total);
                    self.set_devices(page.items, None);
                    self.last_refresh = Some(self.now);
                } else if self.devices.is_empty() || self.loading_more() {
                    // First load: show the first page at once while the rest loads. A refresh
                    // keeps showing the previous fleet until the new one is in.
                    self.server_total = Some(page.total);
                    self.set_devices(page.items, None);
                }
                return follow;
            }
            Response::FleetPage(Err(e)) => {
                self.pending.remove(&kind);
                self.connection_error(e);
                return follow;
            }
            _ => {}
        }
        self.pending.remove(&kind);
        match resp {
            Response::FleetPage(_) => {}
            Response::Fleet(Ok((devices, summary))) => {
                self.server_total = Some(devices.len() as u64);
                self.set_devices(devices, summary);
                self.conn = ConnState::Connected;
                self.last_refresh = Some(self.now);
            }
            Response::Fleet(Err(e)) => self.connection_error(e),
            Response::Detail(id, r) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    match r {
                        Ok(detail) => {
                            d.detail = Some(detail);
                            d.error = None;
                        }
                        Err(e) => d.error = Some(e.short()),
                    }
                }
            }
            Response::Metrics(id, w, r) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    if d.window != w {
                        // The window changed while this was in flight: ask again.
                        let w = d.window;
                        follow.extend(self.request(Request::Metrics(id, w)));
                    } else {
                        match r {
                            Ok(m) => d.metrics = Some(m),
                            Err(e) => d.error = Some(e.short()),
                        }
                    }
                }
            }
            Response::Events(id, r) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    match r {
                        Ok(mut ev) => {
                            ev.sort_by_key(|e| std::cmp::Reverse(e.at));
                            d.events = ev;
                            d.events_offset = d.events_offset.min(d.events.len());
                        }
                        Err(e) => d.error = Some(e.short()),
                    }
                }
            }
            Response::Patched(action, r) => {
                if let Ok(detail) = &r {
                    let summary = detail.summary.clone();
                    if let Some(d) = self.detail.as_mut().filter(|d| d.id == action.id) {
                        d.detail = Some(detail.clone());
                    }
                    if let Some(slot) = self.devices.iter_mut().find(|d| d.id == summary.id) {
                        *slot = summary;
                    }
                    let keep = self.selected_device().map(|d| d.id);
                    self.reorder(keep.or(Some(action.id)));
                    if self.detail.as_ref().is_some_and(|d| d.id == action.id) {
                        follow.extend(self.request(Request::Events(action.id)));
                    }
                }
                if action.bulk {
                    self.bulk_result(&action, r.err());
                } else {
                    self.status = Some(match r {
                        Ok(_) => Status {
                            text: format!("done: {}", action.description),
                            error: false,
                        },
                        Err(e) => Status {
                            text: format!("refused: {} — {}", action.description, e.short()),
                            error: true,
                        },
                    });
                }
            }
            Response::Alerts(scope, r) => {
                if self.alerts.reload || scope != self.alerts.scope {
                    // Older than an ack or silence, or of the previous scope: ask again.
                    self.alerts.reload = false;
                    let scope = self.alerts.scope;
                    follow.extend(self.request(Request::Alerts(scope)));
                    return follow;
                }
                match r {
                    Ok(items) => {
                        self.alerts.shown_scope = scope;
                        self.alerts.error = None;
                        self.alerts.set_items(items, self.now, self.table_rows);
                    }
                    Err(e) => self.alerts.error = Some(e.short()),
                }
            }
            Response::DeviceAlerts(id, r) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    match r {
                        Ok(mut items) => {
                            super::alerts::sort_alerts(&mut items, self.now);
                            d.alerts = Some(items);
                        }
                        Err(e) => d.error = Some(e.short()),
                    }
                }
            }
            Response::AlertActed(action, r) => match r {
                Ok(a) => {
                    self.alerts.update(a, self.now, self.table_rows);
                    self.status = Some(Status {
                        text: format!("done: {}", action.description),
                        error: false,
                    });
                    // Reload from the server; an answer already on its way predates the change.
                    if self.pending.contains(&ReqKind::Alerts) {
                        self.alerts.reload = true;
                    } else {
                        let scope = self.alerts.scope;
                        follow.extend(self.request(Request::Alerts(scope)));
                    }
                    if self
                        .detail
                        .as_ref()
                        .is_some_and(|d| d.id == action.device_id)
                    {
                        self.pending.remove(&ReqKind::DeviceAlerts);
                        follow.extend(self.request(Request::DeviceAlerts(action.device_id)));
                        self.pending.remove(&ReqKind::Events);
                        follow.extend(self.request(Request::Events(action.device_id)));
                    }
                }
                Err(e) => {
                    self.status = Some(Status {
                        text: format!("refused: {} — {}", action.description, e.short()),
                        error: true,
                    });
                }
            },
            Response::Exported(path, r) => {
                self.status = Some(match r {
                    Ok(n) => Status {
                        text: format!("exported {n} devices to {}", path.display()),
                        error: false,
                    },
                    Err(e) => Status {
                        text: format!("export to {} failed: {e}", path.display()),
                        error: true,
                    },
                });
            }
        }
        follow
    }

    /// Counts one answer of a bulk change; the status says how far it got and what failed.
    fn bulk_result(&mut self, action: &Action, err: Option<ClientError>) {
        let Some(b) = self.bulk.as_mut() else {
            return;
        };
        b.done += 1;
        if let Some(e) = err {
            b.failed
                .push(format!("{}: {}", action.description, e.short()));
        }
        let text = if b.failed.is_empty() {
            format!("{}: {}/{} done", b.summary, b.done, b.total)
        } else {
            format!(
                "{}: {}/{} answered, {} refused — {}",
                b.summary,
                b.done,
                b.total,
                b.failed.len(),
                b.failed.join("; ")
            )
        };
        self.status = Some(Status {
            text,
            error: !b.failed.is_empty(),
        });
        if b.done >= b.total {
            if b.failed.is_empty() {
                self.marked.clear();
            }
            self.bulk = None;
        }
    }

    fn connection_error(&mut self, e: ClientError) {
        match e {
            ClientError::Unauthorized(_) | ClientError::Forbidden(_) | ClientError::NoToken => {
                self.conn = ConnState::AuthFailed(e.to_string());
            }
            other => {
                let since = match &self.conn {
                    ConnState::Reconnecting { since, .. } => *since,
                    _ => self.now,
                };
                self.conn = ConnState::Reconnecting {
                    error: other.short(),
                    since,
                };
            }
        }
    }
}
