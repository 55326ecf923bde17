//! `recert admin`: API clients.

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
    let AdminCommand::Client { command } = cmd;
    let store = open_store(cfg).await?;
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
