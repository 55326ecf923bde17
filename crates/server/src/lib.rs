//! The HTTP server: a thin axum layer over the core. Handlers translate wire shapes into core
//! calls and back; no business rule lives here.

mod caller;
pub mod error;
mod health;
mod oauth;
mod request_log;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use recert_core::auth::Auth;
use recert_core::auth::ratelimit::RateLimiter;
use recert_domain::Clock;
use recert_store::Store;
use tokio::net::TcpListener;

pub use caller::SailPointCaller;
pub use request_log::TrackingId;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub auth: Arc<Auth>,
    /// `None` when rate limiting is configured off.
    pub limiter: Option<Arc<RateLimiter>>,
}

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/info", get(oauth::info))
        .layer(axum::middleware::from_fn(request_log::log_request))
        .with_state(state)
}

/// Serves until `shutdown` completes, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
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
