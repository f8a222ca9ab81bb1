//! `rt-tui login`, `logout`, `whoami`.

use crate::cli::LoginArgs;
use crate::client::{Client, ClientError};
use crate::{Ctx, UsageError, config};
use rt_client::credstore::Secret;
use std::io::IsTerminal;

pub async fn run(ctx: &Ctx, a: &LoginArgs) -> anyhow::Result<()> {
    let server = ctx.server.clone().ok_or_else(|| {
        UsageError(
            "which server? run `rt-tui login --server URL` (e.g. http://127.0.0.1:8080)".into(),
        )
    })?;
    // Checked (readable, holds a certificate) and made absolute before it is saved.
    let ca_file = match &ctx.ca_file {
        Some(p) => {
            rt_client::tls::read_ca_file(p).map_err(|e| UsageError(e.to_string()))?;
            Some(std::path::absolute(p)?)
        }
        None => None,
    };
    let client = Client::new(&server, None, ca_file.as_deref())?;
    let username = match &a.username {
        Some(u) => u.clone(),
        None if std::io::stdin().is_terminal() => {
            let mut input = dialoguer::Input::<String>::new().with_prompt("User name");
            if let Ok(cfg) = config::load(&ctx.config_dir)
                && let Some(u) = cfg.username
            {
                input = input.default(u);
            }
            input.interact_text()?
        }
        None => {
            return Err(UsageError(
                "no terminal to ask for the user name: pass --username NAME".into(),
            )
            .into());
        }
    };
    let password = if a.password_stdin {
        super::read_stdin_line()?
    } else {
        super::prompt_password("Password", false)?
    };
    let resp = client
        .login(&username, &password)
        .await
        .map_err(|e| match e {
            ClientError::Unauthorized(m) => {
                anyhow::anyhow!(ClientError::Unauthorized(m)).context(format!(
                    "login as {username:?} at {server} refused: check the user name and password"
                ))
            }
            other => anyhow::anyhow!(other),
        })?;
    let mut cfg = config::load(&ctx.config_dir)?;
    cfg.server = Some(client.base().as_str().trim_end_matches('/').to_string());
    cfg.username = Some(resp.user.username.clone());
    cfg.ca_file = ca_file;
    config::save(&ctx.config_dir, &cfg)?;
    let store = config::token_store(&ctx.config_dir, cfg.server.as_deref())?;
    store.set(&Secret::new(resp.token.clone()))?;
    eprintln!(
        "logged in to {} as {} ({}); session valid until {}; token kept in {} ({})",
        client.base().as_str().trim_end_matches('/'),
        resp.user.username,
        resp.user.role,
        resp.expires_at.format("%Y-%m-%d %H:%M UTC"),
        store.location(),
        store.kind()
    );
    Ok(())
}

pub fn logout(ctx: &Ctx) -> anyhow::Result<()> {
    let store = config::token_store(&ctx.config_dir, ctx.server.as_deref())?;
    store.delete()?;
    eprintln!(
        "logged out of {}: saved token removed",
        ctx.server.as_deref().unwrap_or("the default server")
    );
    Ok(())
}

pub async fn whoami(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let me = client.whoami().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&me)?);
    } else {
        println!(
            "{} ({}) at {}",
            me.username,
            me.role,
            client.base().as_str().trim_end_matches('/')
        );
    }
    Ok(())
}
