//! Building and running the server. `main` and the integration tests go
//! through the same `Application::build`, so tests exercise the real wiring.
//!
//! One axum router serves the REST API (`http`), the Leptos pages and the
//! server functions (`/sfn/…`, registered by `leptos_routes_with_context`,
//! which also puts the `app::api::BackendHandle` into their context), and
//! Socket.IO (`realtime`'s layer; with `REDIS_URL`, socketioxide's Redis
//! adapter through `cluster`). The service is built first with the
//! realtime sink as its `Broadcaster`; the sink gets its `SocketIo` once
//! the layer exists.

use crate::auth::{Keys, OriginPolicy, SessionCookie};
use crate::backend::ServiceBackend;
use crate::cluster::Cluster;
use crate::config::{Config, Environment};
use crate::http::{self, AppState};
use crate::service::{Broadcaster, Limiters, Service};
use crate::storage::Db;
use crate::{realtime, seed};
use anyhow::Context;
use axum::serve::ListenerExt;
use axum::{Router, extract::DefaultBodyLimit, http::Request};
use contract::model::Session;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

/// After the shutdown signal, how long the closed sockets' disconnect
/// handlers (and their offline announcements, `realtime::OFFLINE_GRACE`
/// after) get to finish.
pub const DISCONNECT_DEADLINE: Duration = Duration::from_secs(5);

/// After the shutdown signal, how long open HTTP requests get to finish.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);

pub struct Application {
    listener: TcpListener,
    router: Router,
    service: Service,
    sink: Arc<realtime::SocketSink>,
    cluster: Option<Cluster>,
}

/// Knobs tests turn; production uses the defaults. (Rate limits are in
/// `Config::limits`.)
#[derive(Clone, Debug)]
pub struct Tuning {
    pub seed_demo_data: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            seed_demo_data: true,
        }
    }
}

impl Application {
    pub async fn build(config: Config, tuning: Tuning) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database)
            .await
            // Never the raw URL: it may carry the password.
            .with_context(|| format!("cannot open the database {}", config.database.redacted()))?;
        db.migrate().await.context("cannot apply migrations")?;
        let keys = Keys::new(&config.jwt_secret, config.jwt_ttl);
        let cluster = match &config.redis {
            Some(target) => Some(
                Cluster::connect(target, &config.redis_prefix)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot reach Redis ({} {})",
                            target.variable(),
                            target.redacted()
                        )
                    })?,
            ),
            None => None,
        };
        if let Some(c) = &cluster {
            tracing::info!(
                node = c.node(),
                "several nodes: sharing rooms and presence through Redis"
            );
        }
        let limiter = Limiters::new(&config.limits).shared(cluster.clone());
        let cookie = SessionCookie::new(keys.ttl(), config.env == Environment::Production);
        let sink = realtime::SocketSink::new(cluster.clone(), config.fault_drop_every);
        if let Some(n) = config.fault_drop_every {
            tracing::warn!(
                every = n,
                "FAULT INJECTION: dropping the new_message broadcast of every seq divisible by {n} (JOBCHAT_FAULT_DROP_EVERY)"
            );
        }
        let files =
            crate::files::Files::open(&config.files).context("cannot open the file store")?;
        let service = Service::new(
            db,
            files,
            keys,
            limiter,
            &config.masking,
            Broadcaster::new(sink.clone()),
        );
        service.settle_in(&config.currency);
        if let Some(url) = &config.database_read {
            let replica = crate::storage::Replica::open(url)
                .with_context(|| format!("DATABASE_READ_URL {} is not usable", url.redacted()))?;
            service.read_from(replica);
            tracing::info!(
                replica = %url.redacted(),
                "history, search, the chat list and transcripts read from the replica once it has caught up"
            );
        }
        service
            .send_emails(&config.email, &config.jwt_secret)
            .context("cannot set up email (JOBCHAT_SMTP_URL, JOBCHAT_MAIL_FROM)")?;
        if let Some(days) = config.chat_retention_days {
            tracing::info!(days, "chats with nothing written for longer are deleted");
            service.keep_chats_for(days);
        }
        if config.env == Environment::Development {
            tracing::warn!(
                "development mode (JOBCHAT_ENV unset): a generated JWT secret, cookies without Secure{}; set JOBCHAT_ENV=production for a deployment",
                if config.demo_data {
                    ", demo accounts with public passwords"
                } else {
                    ""
                }
            );
        }
        if tuning.seed_demo_data && config.demo_data && config.env == Environment::Development {
            seed::seed_demo_data(&service)
                .await
                .context("cannot seed demo data")?;
        }

        let limits = realtime::Limits {
            send_per_sec: config.send_limit_per_sec,
            sockets_per_user: config.limits.sockets_per_user,
        };
        let origins = OriginPolicy::new(config.allowed_origins.clone());
        let socket_layer = realtime::layer(
            service.clone(),
            sink.clone(),
            realtime::Handshake {
                limits,
                cookie,
                origins: origins.clone(),
                client_ip_header: config.client_ip_header.clone(),
            },
        )
        .await?;
        let leptos_options = leptos_options(&config);
        let state = AppState {
            service: service.clone(),
            leptos_options: leptos_options.clone(),
            cookie,
            cluster: cluster.clone(),
            metrics: crate::metrics::install(),
            metrics_token: config.metrics_token.as_deref().map(Into::into),
            client_ip_header: config.client_ip_header.clone(),
        };
        let routes = generate_route_list(app::App);
        let backend =
            ServiceBackend::handle(service.clone(), cookie, config.client_ip_header.clone());
        let pages = Router::new()
            .leptos_routes_with_context(
                &state,
                routes,
                // Runs for every page render and every server-function call.
                move || {
                    provide_context(backend.clone());
                    provide_request_nonce();
                    // The signed-in user for server rendering, as
                    // `page_session` found it before rendering began.
                    let session = use_context::<axum::http::request::Parts>()
                        .and_then(|parts| parts.extensions.get::<Session>().cloned())
                        .unwrap_or_default();
                    provide_context(session);
                },
                {
                    let options = leptos_options.clone();
                    move || app::shell(options.clone())
                },
            )
            .route_layer(axum::middleware::from_fn_with_state(
                (service.clone(), cookie),
                page_session,
            ))
            .route_layer(axum::middleware::from_fn(
                http::server_fns::status_from_code,
            ));
        let router = http::router()
            .merge(pages)
            // Assets, and the "not found" page (whose inline script needs
            // the response's nonce too).
            .fallback(leptos_axum::file_and_error_handler_with_context::<
                AppState,
                _,
            >(provide_request_nonce, app::shell))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .layer(axum::middleware::from_fn(http::deadline))
            // Cookie-authenticated writes from another site's page: 403.
            .layer(axum::middleware::from_fn_with_state(
                origins,
                http::same_origin,
            ))
            .layer(axum::middleware::from_fn(http::metrics::track))
            // The WASM bundle is most of what a first visit downloads:
            // brotli/gzip cut it to about a third.
            .layer(CompressionLayer::new());
        let headers = http::HeaderPolicy {
            production: config.env == Environment::Production,
            live_reload_port: (config.env == Environment::Development
                && std::env::var_os("LEPTOS_WATCH").is_some())
            .then_some(leptos_options.reload_port),
        };
        // Outside the Socket.IO layer, so its responses get them as well.
        let router = http::security_headers(socket_layer.apply(router), headers)
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                // Without the Engine.IO `sid` (a credential for its connection).
                let uri = crate::telemetry::loggable_uri(req.uri());
                tracing::info_span!("request", method = %req.method(), uri, request_id, user_id = tracing::field::Empty)
            })
            // One line per request, with its status and latency.
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .with_state(state);

        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        Ok(Self {
            listener,
            router,
            service,
            sink,
            cluster,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves, then stops accepting, closes the
    /// sockets cleanly and closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sink = self.sink.clone();
        let service = self.service.clone();
        let cluster = self.cluster.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: closing Socket.IO connections");
            // Sockets are long-lived: without closing them the HTTP server's
            // graceful shutdown would wait for them forever. Only this
            // node's: the others keep serving, and these clients reconnect
            // to them. Their disconnect handlers, and the offline
            // announcements those leave pending for a grace, finish before
            // the pool and Redis close, within a bound.
            let closed = sink.close_local().await;
            if !sink.drained(&closed, DISCONNECT_DEADLINE).await {
                tracing::warn!(
                    "disconnect handlers still running after {} s: stopping anyway",
                    DISCONNECT_DEADLINE.as_secs()
                );
            }
            if let Some(c) = &cluster
                && let Err(e) = c.retire().await
            {
                tracing::warn!(error = %e, "heartbeat not withdrawn; the others reap this node after it lapses");
            }
            let _ = stop_tx.send(());
        });
        // Small frames (an event, then its ack) must not wait for the
        // client's delayed ACK (~40 ms per round trip with Nagle on).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        // Graceful, within a bound: once the signal came, open requests get
        // `SHUTDOWN_DEADLINE` to finish, then the server stops regardless.
        let stopping = Arc::new(tokio::sync::Notify::new());
        let serve = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let stopping = stopping.clone();
            async move {
                let _ = stop_rx.await;
                stopping.notify_one();
            }
        });
        tokio::select! {
            served = serve => served?,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_DEADLINE).await;
            } => {
                tracing::warn!(
                    "shutdown deadline ({} s) passed with requests still open: stopping anyway",
                    SHUTDOWN_DEADLINE.as_secs()
                );
            }
        }
        if tokio::time::timeout(Duration::from_secs(10), service.close())
            .await
            .is_err()
        {
            tracing::warn!("the database pool did not close in time");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Gives Leptos the nonce that `http::security_headers` put in the
/// request and will name in the page's Content-Security-Policy, in place
/// of the one leptos_axum made up (its inline scripts carry this one).
fn provide_request_nonce() {
    if let Some(nonce) = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<leptos::nonce::Nonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// Finds who is signed in before a page renders: Leptos's context closure
/// cannot wait for the database, and authentication reads the account (a
/// revoked token must not render a signed-in page). An invalid or revoked
/// session renders as signed out. Server functions authenticate themselves.
async fn page_session(
    axum::extract::State((service, cookie)): axum::extract::State<(Service, SessionCookie)>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::GET {
        let me = match cookie.token_from_headers(req.headers()) {
            Some(token) => service
                .authenticate(&token)
                .await
                .ok()
                .map(|(user, _)| user.me()),
            None => None,
        };
        req.extensions_mut().insert(Session(me));
    }
    next.run(req).await
}

/// Leptos's options from the environment cargo-leptos sets, with defaults
/// that let the binary run on its own (`LEPTOS_SITE_ROOT` etc.).
fn leptos_options(config: &Config) -> LeptosOptions {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "jobchat"))
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(config.bind)
        .reload_port(
            env("LEPTOS_RELOAD_PORT", "3001")
                .parse::<u32>()
                .unwrap_or(3001),
        )
        .env(if config.env == Environment::Production {
            leptos::config::Env::PROD
        } else {
            leptos::config::Env::DEV
        })
        .build()
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
