//! `recert admin`: API clients, signing keys, people who sign in to the web interface.

use anyhow::Result;
use clap::Subcommand;
use recert_core::clients::{self, NewClient};
use recert_domain::{ClientRole, Id, SystemClock};

use crate::config::Config;
use crate::open_store;

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// API clients (client credentials for scripts, SDKs and reviewers).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// People who sign in to the web interface (identities).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Set an identity's local password, read from standard input (never from the command
    /// line, where other users of the machine could see it).
    SetPassword {
        /// The identity (32-hex id).
        #[arg(long = "identity", value_name = "ID")]
        identity: Id,
        /// Read the password from standard input (required: the only way to give it).
        #[arg(long = "password-stdin", required = true)]
        password_stdin: bool,
        /// ORG_ADMIN, CERT_ADMIN, OPERATOR or REPORT_ADMIN in the web interface; repeat for
        /// several. Without it the roles stay as they are (a new user only reviews).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<ClientRole>,
        /// Remove every role: the person only reviews their own work.
        #[arg(long, conflicts_with = "roles")]
        reviewer_only: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new signing key current. Tokens signed by the previous key stay valid until they
    /// expire; running servers pick the new key up within a minute.
    Rotate,
    /// List signing keys (never the key material).
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Create a client; prints its id and a secret that is shown only once.
    Create {
        /// ORG_ADMIN, CERT_ADMIN, OPERATOR, REPORT_ADMIN or USER; repeat for several.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<ClientRole>,
        /// The identity the client acts as (required for USER).
        #[arg(long = "identity", value_name = "ID")]
        identity: Option<Id>,
        /// A label for people.
        #[arg(long)]
        name: Option<String>,
    },
    /// List clients (never their secrets).
    List,
    /// Revoke a client: its tokens stop working at once.
    Revoke { id: Id },
}

pub(crate) async fn run(cfg: &Config, cmd: AdminCommand) -> Result<()> {
    let store = open_store(cfg).await?;
    let command = match cmd {
        AdminCommand::Client { command } => command,
        AdminCommand::Keys { command } => return keys(store.as_ref(), command).await,
        AdminCommand::User { command } => return user(store.as_ref(), command).await,
    };
    match command {
        ClientCommand::Create {
            roles,
            identity,
            name,
        } => {
            let created = clients::create(
                store.as_ref(),
                &SystemClock,
                NewClient {
                    name,
                    roles,
                    identity_id: identity,
                },
            )
            .await?;
            println!("client_id: {}", created.client.id);
            println!("client_secret: {}", created.secret);
            eprintln!("The secret is shown only this once; recert keeps only a hash of it.");
        }
        ClientCommand::List => {
            println!(
                "{:<32}  {:<24}  {:<28}  {:<32}  STATUS",
                "ID", "NAME", "ROLES", "IDENTITY"
            );
            for c in clients::list(store.as_ref()).await? {
                let roles: Vec<&str> = c.roles.iter().map(|r| r.as_str()).collect();
                let status = match c.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => format!("active since {}", c.created_at),
                };
                println!(
                    "{:<32}  {:<24}  {:<28}  {:<32}  {status}",
                    c.id,
                    c.name,
                    roles.join(","),
                    c.identity_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
            }
        }
        ClientCommand::Revoke { id } => {
            clients::revoke(store.as_ref(), &SystemClock, id).await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn keys(store: &dyn recert_store::Store, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Rotate => {
            let key = recert_core::auth::rotate_keys(store, &SystemClock).await?;
            println!("signing key {} is now current (kid)", key.kid);
        }
        KeysCommand::List => {
            println!("{:<32}  {:<24}  STATUS", "KID", "CREATED");
            for k in store.signing_keys().await? {
                let status = match k.retired_at {
                    Some(at) => format!("retired {at}"),
                    None => "current".to_owned(),
                };
                println!("{:<32}  {:<24}  {status}", k.kid, k.created_at.to_string());
            }
        }
    }
    Ok(())
}

async fn user(store: &dyn recert_store::Store, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::SetPassword {
            identity,
            password_stdin: _,
            roles,
            reviewer_only,
        } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let roles = (reviewer_only || !roles.is_empty()).then_some(roles);
            recert_core::web::set_password(
                store,
                &SystemClock,
                identity,
                &password,
                roles.as_deref(),
            )
            .await?;
            eprintln!(
                "The password of identity {identity} is set; it signs in at /login. Its earlier \
                 sessions are ended."
            );
        }
    }
    Ok(())
}
