//! The console's state: everything the render functions draw, and nothing about terminals or
//! sockets. Changed only by key handling ([`super::keys`]) and by fetch results ([`App::apply`]).

use crate::client::ClientError;
use crate::filter::{Filter, SortKey, filter_and_sort};
use chrono::{DateTime, Utc};
use rt_core::api::{
    DeviceDetail, DeviceEvent, DevicePatch, DeviceSummary, FleetSummary, MetricsResponse,
    Resolution,
};
use rt_core::{DeviceId, LifecycleState};
use std::collections::HashSet;

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
}

impl Window {
    pub const ALL: [Window; 4] = [Window::H1, Window::H24, Window::D7, Window::D30];

    pub fn seconds(self) -> i64 {
        match self {
            Window::H1 => 3_600,
            Window::H24 => 86_400,
            Window::D7 => 7 * 86_400,
            Window::D30 => 30 * 86_400,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::H1 => "1h",
            Window::H24 => "24h",
            Window::D7 => "7d",
            Window::D30 => "30d",
        }
    }

    pub fn resolution(self) -> Resolution {
        Resolution::for_window(self.seconds())
    }

    pub fn next(self) -> Window {
        match self {
            Window::H1 => Window::H24,
            Window::H24 => Window::D7,
            Window::D7 => Window::D30,
            Window::D30 => Window::H1,
        }
    }
}

/// What the detail screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub id: DeviceId,
    pub detail: Option<DeviceDetail>,
    pub metrics: Option<MetricsResponse>,
    pub events: Vec<DeviceEvent>,
    pub window: Window,
    pub error: Option<String>,
}

/// Which text an input box edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Assign,
    AssetTag,
    Notes,
}

impl InputKind {
    pub fn title(self) -> &'static str {
        match self {
            InputKind::Assign => "Assign to (user name; empty to unassign)",
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
}

/// A popup over the current screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help,
    Input {
        kind: InputKind,
        id: DeviceId,
        name: String,
        value: String,
    },
    PickState {
        id: DeviceId,
        name: String,
        from: LifecycleState,
        options: Vec<LifecycleState>,
        selected: usize,
    },
    Confirm(Action),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Fleet,
    Detail,
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
    Fleet,
    Detail(DeviceId),
    Metrics(DeviceId, Window),
    Events(DeviceId),
    Patch(Action),
}

/// At most one request of each kind is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReqKind {
    Fleet,
    Detail,
    Metrics,
    Events,
    Patch,
}

impl Request {
    pub fn kind(&self) -> ReqKind {
        match self {
            Request::Fleet => ReqKind::Fleet,
            Request::Detail(_) => ReqKind::Detail,
            Request::Metrics(..) => ReqKind::Metrics,
            Request::Events(_) => ReqKind::Events,
            Request::Patch(_) => ReqKind::Patch,
        }
    }
}

/// Results from the fetcher.
#[derive(Debug)]
pub enum Response {
    Fleet(Result<(Vec<DeviceSummary>, Option<FleetSummary>), ClientError>),
    Detail(DeviceId, Result<DeviceDetail, ClientError>),
    Metrics(DeviceId, Window, Result<MetricsResponse, ClientError>),
    Events(DeviceId, Result<Vec<DeviceEvent>, ClientError>),
    Patched(Action, Result<DeviceDetail, ClientError>),
}

impl Response {
    pub fn kind(&self) -> ReqKind {
        match self {
            Response::Fleet(_) => ReqKind::Fleet,
            Response::Detail(..) => ReqKind::Detail,
            Response::Metrics(..) => ReqKind::Metrics,
            Response::Events(..) => ReqKind::Events,
            Response::Patched(..) => ReqKind::Patch,
        }
    }
}

/// The whole state of the console.
#[derive(Debug, Clone)]
pub struct App {
    /// "Now" for relative times; the run loop sets it every tick, tests fix it.
    pub now: DateTime<Utc>,
    pub server: String,
    pub devices: Vec<DeviceSummary>,
    pub summary: Option<FleetSummary>,
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
    pub conn: ConnState,
    pub last_refresh: Option<DateTime<Utc>>,
    pub screen: Screen,
    pub detail: Option<DetailState>,
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
            conn: ConnState::Connecting,
            last_refresh: None,
            screen: Screen::Fleet,
            detail: None,
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
        self.summary = summary;
        self.reorder(keep);
    }

    /// Recomputes `order` after a change of data, filter or sort.
    pub fn reorder(&mut self, keep: Option<DeviceId>) {
        self.order = filter_and_sort(&self.devices, &self.filter, self.sort, self.descending);
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

    pub fn selected_device(&self) -> Option<&DeviceSummary> {
        self.order.get(self.selected).map(|&i| &self.devices[i])
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
    }

    /// Marks `r` as pending and returns it, unless one of its kind is already in flight.
    pub fn request(&mut self, r: Request) -> Option<Request> {
        if r.kind() != ReqKind::Patch && self.pending.contains(&r.kind()) {
            return None;
        }
        self.pending.insert(r.kind());
        Some(r)
    }

    /// Opens the detail screen of `id` and returns the requests to load it.
    pub fn open_detail(&mut self, id: DeviceId) -> Vec<Request> {
        let window = self.detail.as_ref().map_or(Window::H24, |d| d.window);
        self.detail = Some(DetailState {
            id,
            detail: None,
            metrics: None,
            events: Vec::new(),
            window,
            error: None,
        });
        self.screen = Screen::Detail;
        // A previous device's answers may still be in flight; allow new ones.
        self.pending.remove(&ReqKind::Detail);
        self.pending.remove(&ReqKind::Metrics);
        self.pending.remove(&ReqKind::Events);
        self.detail_requests()
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
        ]
        .into_iter()
        .filter_map(|r| self.request(r))
        .collect()
    }

    /// Takes a fetch result into the state. Returns follow-up requests.
    pub fn apply(&mut self, resp: Response) -> Vec<Request> {
        self.pending.remove(&resp.kind());
        let mut follow = Vec::new();
        match resp {
            Response::Fleet(Ok((devices, summary))) => {
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
                        }
                        Err(e) => d.error = Some(e.short()),
                    }
                }
            }
            Response::Patched(action, r) => match r {
                Ok(detail) => {
                    self.status = Some(Status {
                        text: format!("done: {}", action.description),
                        error: false,
                    });
                    let summary = detail.summary.clone();
                    if let Some(d) = self.detail.as_mut().filter(|d| d.id == action.id) {
                        d.detail = Some(detail);
                    }
                    if let Some(slot) = self.devices.iter_mut().find(|d| d.id == summary.id) {
                        *slot = summary;
                    }
                    self.reorder(Some(action.id));
                    if self.detail.as_ref().is_some_and(|d| d.id == action.id) {
                        follow.extend(self.request(Request::Events(action.id)));
                    }
                }
                Err(e) => {
                    self.status = Some(Status {
                        text: format!("refused: {} — {}", action.description, e.short()),
                        error: true,
                    });
                }
            },
        }
        follow
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
