//! People: `signIn`, `signOut`, `changePassword` for anyone with an account; `createAccount`,
//! `disableAccount` and `accounts` for administrators. Programs' tokens are [`super::api_token`]'s.
//! Secrets (a session, a one-time password) are in the answer once and nowhere else.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{CredentialKind, account, api_token};

use super::error::to_graphql;
use super::viewer::Role;
use super::write::UserError;
use crate::domain::Actor;
use crate::error::AppError;
use crate::service::accounts::{self, Accounts, SignIn};
use crate::service::tokens;
use crate::service::writes::admin;

/// The client's address, when the connection layer knows it (for sign-in waits).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

/// A person's account.
pub struct Account(pub account::Model);

/// A person's account: who signs in, as what, for which city.
#[Object]
impl Account {
    /// The login typed at sign-in.
    async fn login(&self) -> &str {
        &self.0.login
    }
    /// The person's name, as the audit trail shows it.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// What the person may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The city of city staff; null for an administrator.
    async fn city_code(&self) -> Option<ID> {
        self.0.city_code.clone().map(ID)
    }
    /// Whether the password is one the person did not choose yet (the next sign-in asks).
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When an administrator disabled it; null while it works.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }
}

/// A sign-in's bearer secret, shown once.
#[derive(SimpleObject)]
pub struct Session {
    /// Send it as `Authorization: Bearer <token>` (HTTP) or in `connection_init` (WebSocket).
    token: String,
    /// When it ends at the latest (the absolute limit); it ends sooner after `idleSecs` unused.
    expires_at: Option<DateTime<Utc>>,
    /// Seconds without use that end it.
    idle_secs: Option<i32>,
}

/// What `signIn` answers.
#[derive(SimpleObject)]
pub struct SignInPayload {
    /// The session; null when refused.
    session: Option<Session>,
    /// Why not: INVALID_CREDENTIALS (the same for an unknown login and a wrong password),
    /// TOO_MANY_ATTEMPTS (wait and try again), PASSWORD_CHANGE_REQUIRED (send `newPassword`),
    /// ACCOUNT_DISABLED, BAD_USER_INPUT (a new password too short) or BUSY.
    user_errors: Vec<UserError>,
}

/// What `signOut` and `changePassword` answer.
#[derive(SimpleObject)]
pub struct DonePayload {
    /// Whether it was done.
    done: bool,
    /// Why not.
    user_errors: Vec<UserError>,
}

/// What `createAccount` and `disableAccount` answer.
#[derive(SimpleObject)]
pub struct AccountPayload {
    /// The account as stored.
    account: Option<Account>,
    /// `createAccount`: the one-time password to hand to the person (shown once; the first
    /// sign-in asks for a new one).
    initial_password: Option<String>,
    /// `disableAccount`: how many sessions it revoked (those that had lapsed unrevoked too).
    ended_sessions: Option<i32>,
    /// Why not.
    user_errors: Vec<UserError>,
}

impl AccountPayload {
    /// The account as a step left it.
    fn done(account: account::Model) -> Self {
        Self {
            account: Some(Account(account)),
            initial_password: None,
            ended_sessions: None,
            user_errors: Vec::new(),
        }
    }

    /// The step's answer, or why it was refused.
    fn of(outcome: std::result::Result<Self, impl Into<UserError>>) -> Self {
        outcome.unwrap_or_else(|refused| Self {
            account: None,
            initial_password: None,
            ended_sessions: None,
            user_errors: vec![refused.into()],
        })
    }
}

/// A person's sign-in.
#[derive(InputObject)]
pub struct SignInInput {
    /// The login.
    login: String,
    /// The password.
    password: String,
    /// A new password of the person's own, needed when the account's password was made for them.
    new_password: Option<String>,
}

/// A password change by the signed-in person.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The current password.
    old_password: String,
    /// The new one (10 to 200 characters).
    new_password: String,
}

/// A new account.
#[derive(InputObject)]
pub struct CreateAccountInput {
    /// 2 to 64 lower-case letters, digits, `.`, `_`, `-`.
    login: String,
    /// The person's name, e.g. 张三.
    display_name: String,
    /// What the person may do.
    role: Role,
    /// The city of city staff.
    city_code: Option<ID>,
}

/// An account, by login.
#[derive(InputObject)]
pub struct AccountKeyInput {
    /// The login.
    login: String,
}

pub(super) fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor> {
    ctx.data::<Actor>()
}

pub(super) fn db<'a>(ctx: &Context<'a>) -> Result<&'a sea_orm::DatabaseConnection> {
    Ok(&ctx.data::<crate::db::Database>()?.conn)
}

/// Accounts and tokens, for administrators.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// Every account, oldest first. ADMIN only.
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>> {
        admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let all = accounts::list(db(ctx)?).await.map_err(|e| to_graphql(&e))?;
        Ok(all.into_iter().map(Account).collect())
    }
}

/// Signing in and out, and accounts.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs a person in: a session, whose token every path takes as it takes an API token.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The login and password (and a new password at first sign-in).")]
        input: SignInInput,
    ) -> Result<SignInPayload> {
        let accounts = ctx.data::<Accounts>()?;
        let signed = accounts::sign_in(
            db(ctx)?,
            accounts,
            SignIn {
                login: &input.login,
                password: &input.password,
                new_password: input.new_password.as_deref(),
                client: ctx.data_opt::<ClientIp>().map(|c| c.0),
            },
        )
        .await
        .map_err(|e| to_graphql(&e))?;
        Ok(match signed {
            Ok(new) => SignInPayload {
                session: Some(Session {
                    token: new.secret.clone(),
                    expires_at: new.token.expires_at,
                    idle_secs: new.token.idle_secs,
                }),
                user_errors: Vec::new(),
            },
            Err(refused) => SignInPayload {
                session: None,
                user_errors: vec![refused.into()],
            },
        })
    }

    /// Ends the session this request is signed in with.
    async fn sign_out(&self, ctx: &Context<'_>) -> Result<DonePayload> {
        let session = session_of(actor(ctx)?)?;
        tokens::revoke(db(ctx)?, session.id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(DonePayload {
            done: true,
            user_errors: Vec::new(),
        })
    }

    /// Changes the signed-in person's password; their other sessions end.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current password and the new one.")] input: ChangePasswordInput,
    ) -> Result<DonePayload> {
        let session = session_of(actor(ctx)?)?;
        let changed = accounts::change_password(
            db(ctx)?,
            ctx.data::<Accounts>()?,
            session,
            &input.old_password,
            &input.new_password,
        )
        .await
        .map_err(|e| to_graphql(&e))?;
        Ok(match changed {
            Ok(_) => DonePayload {
                done: true,
                user_errors: Vec::new(),
            },
            Err(refused) => DonePayload {
                done: false,
                user_errors: vec![refused.into()],
            },
        })
    }

    /// Creates a person's account with a one-time password. ADMIN only.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The login, the person's name, the role and the city.")]
        input: CreateAccountInput,
    ) -> Result<AccountPayload> {
        let by = admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let created = accounts::create(
            db(ctx)?,
            ctx.data::<Accounts>()?,
            &input.login,
            &input.display_name,
            input.role.into(),
            input.city_code.as_deref().map(String::as_str),
        )
        .await
        .map_err(|e| to_graphql(&e))?;
        Ok(AccountPayload::of(created.map(|new| {
            tracing::info!(
                account = new.account.id,
                by_credential = by.id,
                "an account was created"
            );
            AccountPayload {
                initial_password: Some(new.password),
                ..AccountPayload::done(new.account)
            }
        })))
    }

    /// Disables an account: no more sign-ins, and every session of it ends at once. ADMIN only.
    async fn disable_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's login.")] input: AccountKeyInput,
    ) -> Result<AccountPayload> {
        let by = admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let disabled = accounts::disable(db(ctx)?, &input.login)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(AccountPayload::of(disabled.map(|(account, ended)| {
            tracing::info!(
                account = account.id,
                by_credential = by.id,
                ended,
                "an account was disabled"
            );
            AccountPayload {
                ended_sessions: Some(i32::try_from(ended).unwrap_or(i32::MAX)),
                ..AccountPayload::done(account)
            }
        })))
    }
}

/// The session a request is signed in with; an error for anyone else.
fn session_of(actor: &Actor) -> Result<&api_token::Model> {
    match actor {
        Actor::Token(t) if t.kind == CredentialKind::Session => Ok(t),
        Actor::Token(_) => Err(to_graphql(&AppError::Forbidden(
            "an API token is not a sign-in: an administrator revokes it".into(),
        ))),
        Actor::Anonymous | Actor::Rejected => Err(to_graphql(&AppError::Unauthenticated(
            "sign in first: send the session as `Authorization: Bearer <token>`".into(),
        ))),
    }
}
