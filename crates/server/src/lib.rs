//! The HTTP server: a thin axum layer over the core. Handlers translate wire shapes into core
//! calls and back; no business rule lives here.

mod awf;
mod caller;
mod campaigns;
mod certifications;
pub mod error;
mod health;
mod oauth;
mod remediation;
mod reports;
mod request_log;
mod review_json;
mod templates;
mod web;
mod wire;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use recert_core::auth::Auth;
use recert_core::auth::ratelimit::RateLimiter;
use recert_core::campaigns::Campaigns;
use recert_domain::Clock;
use recert_store::Store;
use tokio::net::TcpListener;

pub use caller::{SailPointBearer, SailPointCaller, VezaCaller};
pub use request_log::TrackingId;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub auth: Arc<Auth>,
    /// `None` when rate limiting is configured off.
    pub limiter: Option<Arc<RateLimiter>>,
    pub campaigns: Campaigns,
    pub certifications: recert_core::certifications::Certifications,
    pub awf: recert_core::awf::Awf,
    /// Web sign-in and sessions.
    pub web: recert_core::web::WebAuth,
    /// Single sign-on, when configured.
    pub oidc: Option<recert_core::oidc::Oidc>,
    pub remediation: recert_core::remediation::Remediation,
}

/// All routes, with their layers and state.
pub fn router(state: AppState) -> Router {
    with_layers(routes(), state)
}

/// The routes without layers, for composing (tests add probes of their own).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/info", get(oauth::info))
        .nest("/v3/campaigns", campaigns::routes())
        .nest("/campaigns/v1", campaigns::routes())
        .nest("/v3/campaigns", reports::campaign_routes())
        .nest("/campaigns/v1", reports::campaign_routes())
        .nest("/v3/reports", reports::file_routes())
        .nest("/reports/v1", reports::file_routes())
        .nest("/v3/certifications", certifications::routes())
        .nest("/certifications/v1", certifications::routes())
        .nest("/v3/certification-tasks", certifications::task_routes())
        .nest("/certification-tasks/v1", certifications::task_routes())
        .nest("/v3/campaign-templates", templates::routes())
        .nest("/campaign-templates/v1", templates::routes())
        .nest("/remediation/v1", remediation::routes())
        .nest("/api/preview/awf", awf::routes())
        .merge(web::routes())
}

/// Adds the layers every route has (the request log with its tracking id) and the state.
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(axum::middleware::from_fn(request_log::log_request))
        .with_state(state)
}

/// Serves until `shutdown` completes, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves a composed router (see [`routes`] and [`with_layers`]).
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on Ctrl-C or SIGTERM.
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
    tracing::info!("shutdown requested; finishing requests in flight");
}
