//! Routes: one function per endpoint group returning a warp filter; state comes in through
//! `with_state`. Authentication and role checks ([`user`], [`admin`], [`device`],
//! [`metrics_reader`]) and JSON bodies ([`body`], [`authed_body`]) are filters too, so every
//! route gets them the same way and no handler does its own auth or re-checks its input.
//! These filters never reject: they extract a `Result` whose error the route answers as it is
//! (401/403 before the body is read, 413/400/422 for the body), so rejections only mean "no
//! route matched" and are turned into JSON by [`super::error::recover`].

use super::error::{ApiError, respond};
use super::handlers::{account, alerts, devices, enroll, export, ops, telemetry};
use super::{
    BodyLimit, Caller, ClientAddr, DeviceCaller, Query, State, read_validated, require_device,
    require_user,
};
use rt_core::{Role, Validate};
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use std::net::IpAddr;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// What an auth or body filter extracts: the value, or the error to answer with.
type Checked<T> = Result<T, ApiError>;

fn with_state(state: State) -> impl Filter<Extract = (State,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

fn authz() -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
}

/// A user (session or API token) with at least the role `need`.
fn user_with(
    state: State,
    need: Role,
) -> impl Filter<Extract = (Checked<Caller>,), Error = Rejection> + Clone {
    authz().then(move |h: Option<String>| {
        let st = state.clone();
        async move { require_user(&st, h.as_deref(), need).await }
    })
}

/// Any signed-in user (viewer or admin).
fn user(state: State) -> impl Filter<Extract = (Checked<Caller>,), Error = Rejection> + Clone {
    user_with(state, Role::Viewer)
}

/// An admin.
fn admin(state: State) -> impl Filter<Extract = (Checked<Caller>,), Error = Rejection> + Clone {
    user_with(state, Role::Admin)
}

/// A device (device token), for telemetry.
fn device(
    state: State,
) -> impl Filter<Extract = (Checked<DeviceCaller>,), Error = Rejection> + Clone {
    authz().then(move |h: Option<String>| {
        let st = state.clone();
        async move { require_device(&st, h.as_deref()).await }
    })
}

/// `/metrics`: anyone when `metrics_public`, otherwise a signed-in user (`None` = public).
fn metrics_reader(
    state: State,
) -> impl Filter<Extract = (Checked<Option<Caller>>,), Error = Rejection> + Clone {
    authz().then(move |h: Option<String>| {
        let st = state.clone();
        async move {
            if st.config.metrics_public {
                Ok(None)
            } else {
                require_user(&st, h.as_deref(), Role::Viewer)
                    .await
                    .map(Some)
            }
        }
    })
}

fn client_ip() -> impl Filter<Extract = (Option<IpAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>().map(|a: Option<ClientAddr>| a.map(|a| a.0.ip()))
}

fn query() -> impl Filter<Extract = (Query,), Error = Rejection> + Clone {
    warp::query::<Vec<(String, String)>>().map(Query)
}

/// A JSON body of at most `limit` bytes (chunked bodies included), parsed, neutralised and
/// validated by rt-core ([`read_validated`]): 413 over the limit, 400 `invalid_json`,
/// 422 `validation_failed` naming every bad field.
fn body<T>(limit: BodyLimit) -> impl Filter<Extract = (Checked<T>,), Error = Rejection> + Clone
where
    T: DeserializeOwned + Validate + Send + 'static,
{
    warp::body::stream().then(move |s| read_validated::<T, _, _>(s, limit, None))
}

/// The caller, then (only if authenticated) the validated body: an unauthenticated request is
/// answered 401/403 without reading its body.
fn authed_body<C, T>(
    auth: impl Filter<Extract = (Checked<C>,), Error = Rejection> + Clone,
    limit: BodyLimit,
    empty_default: Option<fn() -> T>,
) -> impl Filter<Extract = (Checked<(C, T)>,), Error = Rejection> + Clone
where
    C: Send + 'static,
    T: DeserializeOwned + Validate + Send + 'static,
{
    auth.and(warp::body::stream())
        .then(move |caller: Checked<C>, s| async move {
            let caller = caller?;
            let value = read_validated::<T, _, _>(s, limit, empty_default).await?;
            Ok((caller, value))
        })
}

/// Every `/api/v1` route (each documented in [`super::openapi`]) plus `/livez`, `/readyz`, `/metrics` and `/downloads/`.
pub fn routes(state: State) -> BoxedFilter<(Response,)> {
    let api = warp::path("api").and(warp::path("v1"));
    let s = || with_state(state.clone());
    let user = || user(state.clone());
    let admin = || admin(state.clone());
    let json_limit = BodyLimit::json(&state.config.limits);

    let login = api
        .and(warp::path!("auth" / "login"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(body(json_limit))
        .then(|st, ip, b: Checked<_>| async move {
            respond(async { account::login(st, ip, b?).await }.await)
        });
    let logout =
        api.and(warp::path!("auth" / "logout"))
            .and(warp::post())
            .and(s())
            .and(user())
            .then(|st, c: Checked<_>| async move {
                respond(async { account::logout(st, c?).await }.await)
            });
    let me = api
        .and(warp::path!("auth" / "me"))
        .and(warp::get())
        .and(s())
        .and(user())
        .then(
            |st, c: Checked<_>| async move { respond(async { account::me(st, c?).await }.await) },
        );

    let users_list = api
        .and(warp::path!("users"))
        .and(warp::get())
        .and(s())
        .and(admin())
        .then(|st, c: Checked<_>| async move {
            respond(async { account::list_users(st, c?).await }.await)
        });
    let users_create = api
        .and(warp::path!("users"))
        .and(warp::post())
        .and(s())
        .and(authed_body(admin(), json_limit, None))
        .then(|st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    account::create_user(st, c, b).await
                }
                .await,
            )
        });
    let users_update = api
        .and(warp::path!("users" / i64))
        .and(warp::patch())
        .and(s())
        .and(authed_body(admin(), json_limit, None))
        .then(|id, st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    account::update_user(st, c, id, b).await
                }
                .await,
            )
        });

    let api_tokens_create = api
        .and(warp::path!("api-tokens"))
        .and(warp::post())
        .and(s())
        .and(authed_body(user(), json_limit, None))
        .then(|st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    account::create_api_token(st, c, b).await
                }
                .await,
            )
        });
    let api_tokens_list = api
        .and(warp::path!("api-tokens"))
        .and(warp::get())
        .and(s())
        .and(user())
        .then(|st, c: Checked<_>| async move {
            respond(async { account::list_api_tokens(st, c?).await }.await)
        });
    let api_tokens_revoke = api
        .and(warp::path!("api-tokens" / i64))
        .and(warp::delete())
        .and(s())
        .and(user())
        .then(|id, st, c: Checked<_>| async move {
            respond(async { account::revoke_api_token(st, c?, id).await }.await)
        });

    let enroll_tokens_create = api
        .and(warp::path!("enrollment-tokens"))
        .and(warp::post())
        .and(s())
        .and(authed_body(admin(), json_limit, Some(Default::default)))
        .then(|st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    enroll::create_token(st, c, b).await
                }
                .await,
            )
        });
    let enroll_tokens_list = api
        .and(warp::path!("enrollment-tokens"))
        .and(warp::get())
        .and(s())
        .and(admin())
        .then(|st, c: Checked<_>| async move {
            respond(async { enroll::list_tokens(st, c?).await }.await)
        });
    let enroll_tokens_revoke = api
        .and(warp::path!("enrollment-tokens" / i64))
        .and(warp::delete())
        .and(s())
        .and(admin())
        .then(|id, st, c: Checked<_>| async move {
            respond(async { enroll::revoke_token(st, c?, id).await }.await)
        });
    // Enrollment authenticates with credentials in the body (an enrollment token, or a user
    // name and password), checked by the handler in the enrollment transaction.
    let enroll_device = api
        .and(warp::path!("enroll"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(body(json_limit))
        .then(|st, ip, b: Checked<_>| async move {
            respond(async { enroll::enroll(st, ip, b?).await }.await)
        });
    let enroll_preview = api
        .and(warp::path!("enroll" / "preview"))
        .and(warp::post())
        .and(s())
        .and(client_ip())
        .and(body(json_limit))
        .then(|st, ip, b: Checked<_>| async move {
            respond(async { enroll::preview(st, ip, b?).await }.await)
        });

    let telemetry = api
        .and(warp::path!("telemetry"))
        .and(warp::post())
        .and(s())
        .and(device(state.clone()))
        .and(warp::header::optional::<String>("content-encoding"))
        .and(warp::body::stream())
        .then(|st, d: Checked<_>, enc, body| async move {
            respond(async { telemetry::ingest(st, d?, enc, body).await }.await)
        });

    let devices_list = api
        .and(warp::path!("devices"))
        .and(warp::get())
        .and(s())
        .and(user())
        .and(query())
        .then(|st, c: Checked<_>, q| async move {
            respond(async { devices::list(st, c?, q).await }.await)
        });
    let device_detail = api
        .and(warp::path!("devices" / i64))
        .and(warp::get())
        .and(s())
        .and(user())
        .then(|id, st, c: Checked<_>| async move {
            respond(async { devices::detail(st, c?, id).await }.await)
        });
    let device_patch = api
        .and(warp::path!("devices" / i64))
        .and(warp::patch())
        .and(s())
        .and(authed_body(admin(), json_limit, None))
        .then(|id, st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    devices::patch(st, c, id, b).await
                }
                .await,
            )
        });
    let device_metrics = api
        .and(warp::path!("devices" / i64 / "metrics"))
        .and(warp::get())
        .and(s())
        .and(user())
        .and(query())
        .then(|id, st, c: Checked<_>, q| async move {
            respond(async { devices::metrics(st, c?, id, q).await }.await)
        });
    let device_events = api
        .and(warp::path!("devices" / i64 / "events"))
        .and(warp::get())
        .and(s())
        .and(user())
        .and(query())
        .then(|id, st, c: Checked<_>, q| async move {
            respond(async { devices::events(st, c?, id, q).await }.await)
        });
    let fleet = api
        .and(warp::path!("fleet" / "summary"))
        .and(warp::get())
        .and(s())
        .and(user())
        .then(|st, c: Checked<_>| async move {
            respond(async { devices::fleet_summary(st, c?).await }.await)
        });
    let export_route = api
        .and(warp::path!("export" / String))
        .and(warp::get())
        .and(s())
        .and(user())
        .and(query())
        .then(|what, st, c: Checked<_>, q| async move {
            respond(async { export::export(st, c?, what, q).await }.await)
        });

    let alerts_list = api
        .and(warp::path!("alerts"))
        .and(warp::get())
        .and(s())
        .and(user())
        .and(query())
        .then(|st, c: Checked<_>, q| async move {
            respond(async { alerts::list(st, c?, q).await }.await)
        });
    let alert_ack = api
        .and(warp::path!("alerts" / i64 / "ack"))
        .and(warp::post())
        .and(s())
        .and(authed_body(admin(), json_limit, Some(Default::default)))
        .then(|id, st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    alerts::ack(st, c, id, b).await
                }
                .await,
            )
        });
    let alert_silence = api
        .and(warp::path!("alerts" / i64 / "silence"))
        .and(warp::post())
        .and(s())
        .and(authed_body(admin(), json_limit, None))
        .then(|id, st, cb: Checked<_>| async move {
            respond(
                async {
                    let (c, b) = cb?;
                    alerts::silence(st, c, id, b).await
                }
                .await,
            )
        });

    // Boxed on their own: a longer chain of `or`s makes the route type (and compile time) grow.
    let alert_routes = alerts_list
        .or(alert_ack)
        .unify()
        .or(alert_silence)
        .unify()
        .boxed();

    let openapi = api
        .and(warp::path!("openapi.json"))
        .and(warp::get())
        .map(super::openapi::serve);

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
        .and(metrics_reader(state.clone()))
        .then(
            |st, c: Checked<_>| async move { respond(async { ops::metrics(st, c?).await }.await) },
        );
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
        .or(alert_routes)
        .unify()
        .or(openapi)
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
