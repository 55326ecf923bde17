//! Configuration in layers: defaults < TOML file < `RECERT_*` environment < command-line flags.
//! `recert default-config` prints [`EXAMPLE`], every key commented; docs/CONFIG.md lists them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

pub use crate::config_web::{WebConfig, WorkflowsConfig};

/// The commented example configuration, which is also the defaults (a test checks that).
pub const EXAMPLE: &str = include_str!("../recert.example.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://PATH` (embedded, the default) or `postgres://user@host:port/db`.
    pub database_url: String,
    pub server: ServerConfig,
    pub log: LogConfig,
    pub sqlite: SqliteConfig,
    pub postgres: PostgresConfig,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub campaigns: CampaignsConfig,
    pub remediation: RemediationConfig,
    pub jobs: JobsConfig,
    pub workflows: WorkflowsConfig,
    pub web: WebConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How long a background job stays claimed by a process without a heartbeat: after a
    /// crash, another process takes the job up once this has passed.
    pub lease_seconds: u32,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig { lease_seconds: 60 }
    }
}

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemediationConfig {
    /// Where revoked access is delivered (http://...); empty: no deliveries, remediation items
    /// wait for an import that shows the access gone.
    pub webhook_url: String,
    /// The HMAC-SHA256 key deliveries are signed with; never logged.
    pub webhook_secret: String,
    pub webhook_timeout_seconds: u32,
}

impl Default for RemediationConfig {
    fn default() -> Self {
        RemediationConfig {
            webhook_url: String::new(),
            webhook_secret: String::new(),
            webhook_timeout_seconds: 10,
        }
    }
}

impl std::fmt::Debug for RemediationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemediationConfig")
            .field("webhook_url", &redact_url(&self.webhook_url))
            .field("webhook_secret", &"[redacted]")
            .field("webhook_timeout_seconds", &self.webhook_timeout_seconds)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignsConfig {
    /// The identity (32-hex id) who reviews whoever has no reviewer: people without a manager,
    /// sources without an owner, and self-reviews with nobody above. Empty: nobody; such
    /// access is left out of the campaign with a warning.
    pub fallback_reviewer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Access token lifetime. SailPoint's SDKs fetch one token and never refresh it.
    pub token_lifetime_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Requests allowed per window, per client and per API dialect.
    pub requests: u32,
    pub window_seconds: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_lifetime_seconds: 12 * 3600,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            requests: 100,
            window_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `recert=debug,info`.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteConfig {
    pub cache_mib: u32,
    pub readers: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    pub max_connections: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://recert.db".into(),
            server: ServerConfig::default(),
            log: LogConfig::default(),
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            campaigns: CampaignsConfig::default(),
            remediation: RemediationConfig::default(),
            jobs: JobsConfig::default(),
            workflows: WorkflowsConfig::default(),
            web: WebConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            cache_mib: 64,
            readers: 4,
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            max_connections: 10,
        }
    }
}

/// Values given on the command line (already merged by clap with their `RECERT_*` variables).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
}

fn env_parse<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("environment variable {name}='{v}': {e}")),
    }
}

impl Config {
    /// The fallback reviewer, when one is configured.
    pub fn fallback_reviewer(&self) -> Option<recert_domain::Id> {
        recert_domain::Id::parse(&self.campaigns.fallback_reviewer).ok()
    }

    /// Builds the configuration from its layers. `file` is the TOML file named by `--config` /
    /// `RECERT_CONFIG`; `env` reads the environment (a parameter so tests can supply their own).
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Self> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => Config::default(),
        };
        // Environment for the keys without a flag; the flagged keys come through `flags`, where
        // clap has already put flag-over-environment.
        if let Some(v) = env_parse(env, "RECERT_SQLITE_CACHE_MIB")? {
            cfg.sqlite.cache_mib = v;
        }
        if let Some(v) = env_parse(env, "RECERT_SQLITE_READERS")? {
            cfg.sqlite.readers = v;
        }
        if let Some(v) = env_parse(env, "RECERT_POSTGRES_MAX_CONNECTIONS")? {
            cfg.postgres.max_connections = v;
        }
        if let Some(v) = env_parse(env, "RECERT_AUTH_TOKEN_LIFETIME_SECONDS")? {
            cfg.auth.token_lifetime_seconds = v;
        }
        if let Some(v) = env_parse(env, "RECERT_RATE_LIMIT_ENABLED")? {
            cfg.rate_limit.enabled = v;
        }
        if let Some(v) = env_parse(env, "RECERT_RATE_LIMIT_REQUESTS")? {
            cfg.rate_limit.requests = v;
        }
        if let Some(v) = env_parse(env, "RECERT_RATE_LIMIT_WINDOW_SECONDS")? {
            cfg.rate_limit.window_seconds = v;
        }
        if let Some(v) = env_parse(env, "RECERT_JOBS_LEASE_SECONDS")? {
            cfg.jobs.lease_seconds = v;
        }
        if let Some(v) = env("RECERT_REMEDIATION_WEBHOOK_URL") {
            cfg.remediation.webhook_url = v;
        }
        if let Some(v) = env("RECERT_REMEDIATION_WEBHOOK_SECRET") {
            cfg.remediation.webhook_secret = v;
        }
        if let Some(v) = env_parse(env, "RECERT_REMEDIATION_WEBHOOK_TIMEOUT_SECONDS")? {
            cfg.remediation.webhook_timeout_seconds = v;
        }
        if let Some(v) = env("RECERT_CAMPAIGNS_FALLBACK_REVIEWER") {
            cfg.campaigns.fallback_reviewer = v;
        }
        if let Some(v) = env_parse(env, "RECERT_WEB_SESSION_HOURS")? {
            cfg.web.session_hours = v;
        }
        if let Some(v) = env("RECERT_WEB_PUBLIC_URL") {
            cfg.web.public_url = v;
        }
        if let Some(v) = env("RECERT_WEB_OIDC_ISSUER") {
            cfg.web.oidc_issuer = v;
        }
        if let Some(v) = env("RECERT_WEB_OIDC_CLIENT_ID") {
            cfg.web.oidc_client_id = v;
        }
        if let Some(v) = env("RECERT_WEB_OIDC_CLIENT_SECRET") {
            cfg.web.oidc_client_secret = v;
        }
        if let Some(v) = env("RECERT_WEB_OIDC_LABEL") {
            cfg.web.oidc_label = v;
        }
        if let Some(v) = env("RECERT_WORKFLOWS_IDP_USER_TYPE") {
            cfg.workflows.idp_user_type = v;
        }
        if let Some(v) = env_parse(env, "RECERT_WORKFLOWS_GRACE_PERIOD_DAYS")? {
            cfg.workflows.grace_period_days = v;
        }
        if let Some(v) = env_parse(env, "RECERT_WORKFLOWS_EXPIRE_OVERDUE")? {
            cfg.workflows.expire_overdue = v;
        }
        if let Some(v) = env("RECERT_WORKFLOWS_EXPIRATION_ACTION") {
            cfg.workflows.expiration_action = v;
        }
        if let Some(v) = &flags.database_url {
            cfg.database_url = v.clone();
        }
        if let Some(v) = &flags.listen {
            cfg.server.listen = v.clone();
        }
        if let Some(v) = &flags.log_level {
            cfg.log.level = v.clone();
        }
        if let Some(v) = &flags.log_format {
            cfg.log.format = v.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<()> {
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            bail!(
                "database_url '{}' is not supported: use sqlite://PATH or postgres://...",
                redact_url(&self.database_url)
            );
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bail!(
                "log.format '{}' is not supported: use text or json",
                self.log.format
            );
        }
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "server.listen '{}' is not an address such as 127.0.0.1:8080",
                self.server.listen
            );
        }
        if !(60..=30 * 24 * 3600).contains(&self.auth.token_lifetime_seconds) {
            bail!("auth.token_lifetime_seconds must be between 60 and 2592000 (30 days)");
        }
        if self.rate_limit.requests == 0 || self.rate_limit.window_seconds == 0 {
            bail!("rate_limit.requests and rate_limit.window_seconds must be at least 1");
        }
        if !self.campaigns.fallback_reviewer.is_empty()
            && recert_domain::Id::parse(&self.campaigns.fallback_reviewer).is_err()
        {
            bail!(
                "campaigns.fallback_reviewer '{}' is not an identity id (32 hexadecimal characters)",
                self.campaigns.fallback_reviewer
            );
        }
        if !self.remediation.webhook_url.is_empty() && self.remediation.webhook_secret.len() < 16 {
            bail!(
                "remediation.webhook_secret must be at least 16 characters when \
                 remediation.webhook_url is set (RECERT_REMEDIATION_WEBHOOK_SECRET)"
            );
        }
        if !(1..=24 * 30).contains(&self.web.session_hours) {
            bail!("web.session_hours must be between 1 and 720 (30 days)");
        }
        if !self.web.oidc_issuer.is_empty() {
            let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
                .iter()
                .any(|p| self.web.oidc_issuer.starts_with(p));
            if !(self.web.oidc_issuer.starts_with("https://") || local) {
                bail!(
                    "web.oidc_issuer '{}' must be an https URL (plain http only on this machine)",
                    self.web.oidc_issuer
                );
            }
            if self.web.oidc_client_id.is_empty() || self.web.oidc_client_secret.is_empty() {
                bail!(
                    "web.oidc_client_id and web.oidc_client_secret are required with \
                     web.oidc_issuer (RECERT_WEB_OIDC_CLIENT_SECRET)"
                );
            }
            if !(self.web.public_url.starts_with("https://")
                || self.web.public_url.starts_with("http://"))
            {
                bail!(
                    "web.public_url (the address people reach recert at, e.g. \
                     https://recert.example.com) is required with web.oidc_issuer"
                );
            }
        }
        if self.workflows.idp_user_type.trim().is_empty() {
            bail!("workflows.idp_user_type must not be empty (e.g. CustomIDPUser, OktaUser)");
        }
        if self.workflows.grace_period_days > 3650 {
            bail!("workflows.grace_period_days must be between 0 and 3650");
        }
        if recert_core::awf::ExpirationAction::parse(&self.workflows.expiration_action).is_none() {
            bail!(
                "workflows.expiration_action '{}' is not DO_NOTHING or AUTO_REJECT_INCOMPLETE_RESULTS",
                self.workflows.expiration_action
            );
        }
        if !(3..=3600).contains(&self.jobs.lease_seconds) {
            bail!("jobs.lease_seconds must be between 3 and 3600");
        }
        if !(1..=300).contains(&self.remediation.webhook_timeout_seconds) {
            bail!("remediation.webhook_timeout_seconds must be between 1 and 300");
        }
        if self.sqlite.readers == 0 || self.postgres.max_connections == 0 {
            bail!("sqlite.readers and postgres.max_connections must be at least 1");
        }
        Ok(())
    }
}

/// Hides a password in a database URL, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_example_is_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("recert.toml");
        std::fs::write(
            &file,
            "database_url = \"sqlite://from-file.db\"\n[sqlite]\ncache_mib = 8\nreaders = 2\n",
        )
        .unwrap();
        let env = |k: &str| (k == "RECERT_SQLITE_CACHE_MIB").then(|| "16".to_owned());
        let flags = Overrides {
            listen: Some("127.0.0.1:9999".into()),
            ..Default::default()
        };
        let cfg = Config::load(Some(&file), &env, &flags).unwrap();
        assert_eq!(cfg.database_url, "sqlite://from-file.db"); // file over default
        assert_eq!(cfg.sqlite.cache_mib, 16); // environment over file
        assert_eq!(cfg.sqlite.readers, 2); // file kept where nothing overrides
        assert_eq!(cfg.server.listen, "127.0.0.1:9999"); // flag over all
        let flags = Overrides {
            database_url: Some("postgres://u@h/db".into()),
            ..Default::default()
        };
        let cfg = Config::load(Some(&file), &no_env, &flags).unwrap();
        assert_eq!(cfg.database_url, "postgres://u@h/db");
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("recert.toml");
        std::fs::write(&file, "databse_url = \"x\"\n").unwrap();
        let err = Config::load(Some(&file), &no_env, &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("databse_url"), "{err:#}");
        let env = |k: &str| (k == "RECERT_SQLITE_READERS").then(|| "many".to_owned());
        let err = Config::load(None, &env, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("RECERT_SQLITE_READERS"), "{err}");
        let flags = Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(Config::load(None, &no_env, &flags).is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://bob:secret@db:5432/recert"),
            "postgres://bob:***@db:5432/recert"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
