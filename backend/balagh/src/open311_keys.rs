//! `balagh open311-key`: API keys of Open311 clients from the command line (the same keys
//! staff administrators manage under `/api/v1/staff/open311-keys`).

use crate::config::DatabaseArgs;
use balagh_api::open311::keys::{issue_key, key_name};
use balagh_domain::Slug;
use balagh_store::{Store, Ts};
use clap::Subcommand;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issue a key for a client system; the key is printed once, on standard output.
    Create {
        /// The client system, e.g. "FixMyStreet".
        name: String,
        /// The jurisdiction its requests are for.
        #[arg(long, default_value = "tetouan")]
        jurisdiction: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key at once: the client's POSTs get 403 from then on.
    Revoke {
        /// The key's id (from `create` or `list`).
        id: Uuid,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the keys (never the secrets).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl KeyCommand {
    pub fn database(&self) -> &DatabaseArgs {
        match self {
            KeyCommand::Create { database, .. }
            | KeyCommand::Revoke { database, .. }
            | KeyCommand::List { database } => database,
        }
    }
}

/// Runs the command; what it prints on standard output is for scripts (the key, or one key
/// per line), the rest goes to standard error.
pub async fn run(store: &dyn Store, command: KeyCommand) -> Result<(), String> {
    match command {
        KeyCommand::Create {
            name, jurisdiction, ..
        } => {
            let name = key_name(&name).map_err(|e| e.to_string())?;
            let jurisdiction =
                Slug::parse("--jurisdiction", &jurisdiction).map_err(|e| e.to_string())?;
            let known = store.jurisdictions().await.map_err(|e| e.to_string())?;
            if !known.iter().any(|j| j.id == jurisdiction) {
                return Err(format!(
                    "no jurisdiction '{jurisdiction}' (run `balagh seed-demo` first?)"
                ));
            }
            let (key, secret) = issue_key(store, &jurisdiction, &name, None)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "issued Open311 key {} for {} in {}; it is shown once:",
                key.id, key.name, key.jurisdiction
            );
            println!("{secret}");
            Ok(())
        }
        KeyCommand::Revoke { id, .. } => {
            if store
                .revoke_open311_key(None, id, Ts::now())
                .await
                .map_err(|e| e.to_string())?
            {
                eprintln!("revoked Open311 key {id}");
                Ok(())
            } else {
                Err(format!("no active Open311 key {id}"))
            }
        }
        KeyCommand::List { .. } => {
            for key in store.open311_keys(None).await.map_err(|e| e.to_string())? {
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.get()),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.jurisdiction,
                    key.name,
                    key.created_at.get(),
                    state
                );
            }
            Ok(())
        }
    }
}
