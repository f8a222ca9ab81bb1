//! Routes: one function per endpoint group returning a warp filter; state comes in through
//! `with_state`. Every route ends in a handler that returns a complete response (errors
//! included), so rejections only mean "no route matched" and are turned into JSON by
//! [`super::error::recover`].

use super::error::respond;
use super::handlers::{account, devices, enroll, export, ops, telemetry};
use super::{ClientAddr, Query, State, read_body};
use bytes::Bytes;
use std::convert::Infallible;
use std::net::IpAddr;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

fn with_state(state: State) -> impl Filter<Extract = (State,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

fn authz() -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
}

fn client_ip() -> impl Filter<Extract = (Option<IpAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>().map(|a: Option<ClientAddr>| a.map(|a| a.0.ip()))
}

fn query() -> impl Filter<Extract = (Query,), Error = Rejection> + Clone {
    warp::query::<Vec<(String, String)>>().map(Query)
}

/// A JSON body of at most `limit` bytes (chunked bodies included). Over the limit, the handler
/// is not run and the client gets 413.
async fn small_body<S, B>(
    limit: usize,
    body: S,
) -> Result<Result<Bytes, super::error::ApiError>, Infallible>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send,
    B: bytes::Buf,
{
    Ok(read_body(body, limit).await)
}

fn json_body(
    limit: usize,
) -> impl Filter<Extract = (Result<Bytes, super::error::ApiError>,), Error = Rejection> + Clone {
    warp::body::stream().and_then(move |s| small_body(limit, s))
}

type BodyResult = Result<Bytes, super::error::ApiError>;

macro_rules! run {
    ($body:expr, $handler:expr) => {
        match $body {
            Ok(b) => respond($handler(b).await),
            Err(e) => e.into_response(),
        }
    };
}

/// Every `/api/v1` route plus `/livez`, `/readyz`, `/metrics` and `/downloads/`.
pub fn routes(state: State) -> BoxedFilter<(Response,)> {
    let api = warp::path("api").and(warp::path("v1"));
    let s = || with_state(state.clone());
    let json_limit = state.config.limits.max_json_bytes;

    let login = api
        .and(warp::path!("auth" / "login"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(json_body(json_limit))
        .then(|st: State, ip, body: BodyResult| async move {
            run!(body, |b| account::login(st, ip, b))
        });
    let logout = api
        .and(warp::path!("auth" / "logout"))
        .and(warp::post())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(account::logout(st, a).await) });
    let me = api
        .and(warp::path!("auth" / "me"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(account::me(st, a).await) });

    let users_list = api
        .and(warp::path!("users"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(account::list_users(st, a).await) });
    let users_create = api
        .and(warp::path!("users"))
        .and(warp::post())
        .and(s())
        .and(authz())
        .and(json_body(json_limit))
        .then(|st: State, a, body: BodyResult| async move {
            run!(body, |b| account::create_user(st, a, b))
        });
    let users_update = api
        .and(warp::path!("users" / i64))
        .and(warp::patch())
        .and(s())
        .and(authz())
        .and(json_body(json_limit))
        .then(|id, st: State, a, body: BodyResult| async move {
            run!(body, |b| account::update_user(st, a, id, b))
        });

    let api_tokens_create = api
        .and(warp::path!("api-tokens"))
        .and(warp::post())
        .and(s())
        .and(authz())
        .and(json_body(json_limit))
        .then(|st: State, a, body: BodyResult| async move {
            run!(body, |b| account::create_api_token(st, a, b))
        });
    let api_tokens_list = api
        .and(warp::path!("api-tokens"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(account::list_api_tokens(st, a).await) });
    let api_tokens_revoke = api
        .and(warp::path!("api-tokens" / i64))
        .and(warp::delete())
        .and(s())
        .and(authz())
        .then(|id, st, a| async move { respond(account::revoke_api_token(st, a, id).await) });

    let enroll_tokens_create = api
        .and(warp::path!("enrollment-tokens"))
        .and(warp::post())
        .and(s())
        .and(authz())
        .and(json_body(json_limit))
        .then(|st: State, a, body: BodyResult| async move {
            run!(body, |b| enroll::create_token(st, a, b))
        });
    let enroll_tokens_list = api
        .and(warp::path!("enrollment-tokens"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(enroll::list_tokens(st, a).await) });
    let enroll_tokens_revoke = api
        .and(warp::path!("enrollment-tokens" / i64))
        .and(warp::delete())
        .and(s())
        .and(authz())
        .then(|id, st, a| async move { respond(enroll::revoke_token(st, a, id).await) });
    let enroll_device = api
        .and(warp::path!("enroll"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(json_body(json_limit))
        .then(|st: State, ip, body: BodyResult| async move {
            run!(body, |b| enroll::enroll(st, ip, b))
        });
    let enroll_preview = api
        .and(warp::path!("enroll" / "preview"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(json_body(json_limit))
        .then(|st: State, ip, body: BodyResult| async move {
            run!(body, |b| enroll::preview(st, ip, b))
        });

    let telemetry = api
        .and(warp::path!("telemetry"))
        .and(warp::post())
        .and(s())
        .and(authz())
        .and(warp::header::optional::<String>("content-encoding"))
        .and(warp::body::stream())
        .then(|st, a, enc, body| async move { respond(telemetry::ingest(st, a, enc, body).await) });

    let devices_list = api
        .and(warp::path!("devices"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .and(query())
        .then(|st, a, q| async move { respond(devices::list(st, a, q).await) });
    let device_detail = api
        .and(warp::path!("devices" / i64))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|id, st, a| async move { respond(devices::detail(st, a, id).await) });
    let device_patch = api
        .and(warp::path!("devices" / i64))
        .and(warp::patch())
        .and(s())
        .and(authz())
        .and(json_body(json_limit))
        .then(|id, st: State, a, body: BodyResult| async move {
            run!(body, |b| devices::patch(st, a, id, b))
        });
    let device_metrics = api
        .and(warp::path!("devices" / i64 / "metrics"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .and(query())
        .then(|id, st, a, q| async move { respond(devices::metrics(st, a, id, q).await) });
    let device_events = api
        .and(warp::path!("devices" / i64 / "events"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .and(query())
        .then(|id, st, a, q| async move { respond(devices::events(st, a, id, q).await) });
    let fleet = api
        .and(warp::path!("fleet" / "summary"))
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(devices::fleet_summary(st, a).await) });
    let export_route = api
        .and(warp::path!("export" / String))
        .and(warp::get())
        .and(s())
        .and(authz())
        .and(query())
        .then(|what, st, a, q| async move { respond(export::export(st, a, what, q).await) });

    let livez = warp::path!("livez")
        .and(warp::get())
        .then(|| async { respond(ops::livez().await) });
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(s())
        .then(|st| async move { respond(ops::readyz(st).await) });
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(s())
        .and(authz())
        .then(|st, a| async move { respond(ops::metrics(st, a).await) });
    let downloads = warp::path("downloads")
        .and(warp::get().or(warp::head()).unify())
        .and(warp::fs::dir(state.config.downloads_dir.clone()))
        .map(|f: warp::filters::fs::File| warp::Reply::into_response(f));

    let m = state.metrics.clone();
    let log = warp::log::custom(move |info| {
        m.record_request(info.method().as_str(), info.path(), info.status().as_u16());
        tracing::debug!(
            method = %info.method(),
            path = %info.path(),
            status = info.status().as_u16(),
            elapsed_ms = info.elapsed().as_millis() as u64,
            "request"
        );
    });

    login
        .or(logout)
        .unify()
        .or(me)
        .unify()
        .or(users_list)
        .unify()
        .or(users_create)
        .unify()
        .or(users_update)
        .unify()
        .or(api_tokens_create)
        .unify()
        .or(api_tokens_list)
        .unify()
        .or(api_tokens_revoke)
        .unify()
        .or(enroll_tokens_create)
        .unify()
        .or(enroll_tokens_list)
        .unify()
        .or(enroll_tokens_revoke)
        .unify()
        .or(enroll_device)
        .unify()
        .or(enroll_preview)
        .unify()
        .or(telemetry)
        .unify()
        .boxed()
        .or(devices_list)
        .unify()
        .or(device_detail)
        .unify()
        .or(device_patch)
        .unify()
        .or(device_metrics)
        .unify()
        .or(device_events)
        .unify()
        .or(fleet)
        .unify()
        .or(export_route)
        .unify()
        .or(livez)
        .unify()
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(downloads)
        .unify()
        .recover(super::error::recover)
        .unify()
        .with(log)
        .map(warp::Reply::into_response)
        .boxed()
}
