//! `rt-tui users list|add` (admin).

use crate::cli::UsersCmd;
use crate::{Ctx, UsageError};
use comfy_table::{Table, presets};
use rt_core::Role;
use rt_core::api::CreateUserRequest;

pub async fn run(ctx: &Ctx, cmd: &UsersCmd) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match cmd {
        UsersCmd::List { json } => {
            let users = client.users().await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                let mut t = Table::new();
                t.load_preset(if ctx.ascii {
                    presets::ASCII_FULL_CONDENSED
                } else {
                    presets::UTF8_FULL_CONDENSED
                });
                t.set_header(["ID", "USER", "ROLE", "DISABLED"]);
                for u in &users {
                    t.add_row([
                        u.id.to_string(),
                        u.username.clone(),
                        u.role.to_string(),
                        u.disabled.to_string(),
                    ]);
                }
                println!("{t}");
            }
        }
        UsersCmd::Add {
            name,
            role,
            password_stdin,
        } => {
            let role: Role = role
                .parse()
                .map_err(|_| UsageError(format!("unknown role {role:?}: use admin or viewer")))?;
            let password = if *password_stdin {
                super::read_stdin_line()?
            } else {
                super::prompt_password(&format!("Password for {name}"), true)?
            };
            let u = client
                .create_user(&CreateUserRequest {
                    username: name.clone(),
                    password,
                    role,
                })
                .await?;
            eprintln!("user {} created (id {}, role {})", u.username, u.id, u.role);
        }
    }
    Ok(())
}
