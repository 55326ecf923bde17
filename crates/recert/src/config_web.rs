//! The configuration of the web interface and of the Access Workflows dialect (sections of
//! [`crate::config::Config`]).

use serde::Deserialize;

/// The web interface.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// How long a sign-in lasts, in hours.
    pub session_hours: u32,
    /// The address people reach recert at (`https://recert.example.com`); single sign-on
    /// sends the browser back to `{public_url}/login/sso/callback`.
    pub public_url: String,
    /// Single sign-on with an OpenID Connect provider: its issuer URL (empty: off).
    pub oidc_issuer: String,
    pub oidc_client_id: String,
    /// Never logged; prefer the environment (RECERT_WEB_OIDC_CLIENT_SECRET) to the file.
    pub oidc_client_secret: String,
    /// The provider's name on the sign-in button.
    pub oidc_label: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_hours: 12,
            public_url: String::new(),
            oidc_issuer: String::new(),
            oidc_client_id: String::new(),
            oidc_client_secret: String::new(),
            oidc_label: "single sign-on".into(),
        }
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("session_hours", &self.session_hours)
            .field("public_url", &self.public_url)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &"[redacted]")
            .field("oidc_label", &self.oidc_label)
            .finish()
    }
}

impl WebConfig {
    /// Single sign-on's settings, when an issuer is configured.
    pub fn oidc(&self) -> Option<recert_core::oidc::OidcConfig> {
        (!self.oidc_issuer.is_empty()).then(|| recert_core::oidc::OidcConfig {
            issuer: self.oidc_issuer.clone(),
            client_id: self.oidc_client_id.clone(),
            client_secret: self.oidc_client_secret.clone(),
            redirect_url: format!(
                "{}/login/sso/callback",
                self.public_url.trim_end_matches('/')
            ),
            label: self.oidc_label.clone(),
        })
    }
}

/// The Access Workflows (Veza) dialect.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowsConfig {
    /// The `user_type` of reviewers (the workflows IdP's): responses carry it and reviewer
    /// changes must send it.
    pub idp_user_type: String,
    /// Days after a certification completes during which admins may still change notes and
    /// mark rejected rows FIXED.
    pub grace_period_days: u32,
    /// Whether an ACTIVE certification expires at its due date (off: an admin completes it).
    pub expire_overdue: bool,
    /// What undecided rows get when it expires: DO_NOTHING or AUTO_REJECT_INCOMPLETE_RESULTS.
    pub expiration_action: String,
}

impl Default for WorkflowsConfig {
    fn default() -> Self {
        WorkflowsConfig {
            idp_user_type: "CustomIDPUser".into(),
            grace_period_days: 7,
            expire_overdue: false,
            expiration_action: "DO_NOTHING".into(),
        }
    }
}

impl WorkflowsConfig {
    /// The dialect's settings (valid once the configuration is validated).
    pub fn settings(&self) -> recert_core::awf::AwfSettings {
        recert_core::awf::AwfSettings {
            user_type: self.idp_user_type.clone(),
            grace_period: recert_domain::Duration::days(i64::from(self.grace_period_days)),
            expire_overdue: self.expire_overdue,
            expiration_action: recert_core::awf::ExpirationAction::parse(&self.expiration_action)
                .unwrap_or(recert_core::awf::ExpirationAction::DoNothing),
        }
    }
}
