//! Creating an invite and emailing it.

use serde::Deserialize;

use super::idempotency::RequestSeed;
use super::limits::{LimitError, RateLimited};
use super::Services;
use crate::carts::{CartId, CartSpec};
use crate::config::normalize_email;
use crate::domain::invite::{DEFAULT_EXPIRY_HOURS, MAX_EXPIRY_HOURS, MIN_EXPIRY_HOURS};
use crate::domain::{
    AccessCode, Connection, Function, Invite, InviteEventKind, InviteId, InviteStatus, InviteToken,
    Locale, Warehouse, WarehouseId,
};
use crate::email::invite_email;
use crate::mailer::MailError;
use crate::store::StoreError;

/// Longest merchant name accepted.
pub const MAX_NAME_LEN: usize = 100;
/// Longest store identifier accepted.
pub const MAX_STORE_LEN: usize = 255;

/// The body of `POST /v1/invites`. Unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// The cart id.
    pub cart: String,
    /// The merchant's email address.
    pub merchant_email: String,
    /// The merchant's name.
    pub merchant_name: Option<String>,
    /// The store identifier the cart needs.
    pub store: Option<String>,
    /// What to ask for; all the cart supports if absent.
    pub functions: Option<Vec<Function>>,
    /// Life of the invite, 1 to 720 hours; 336 (14 days) if absent.
    pub expires_in_hours: Option<u32>,
    /// The language of the merchant's emails (`en`, `de`, `fr`, `es`, `ja`); the warehouse's
    /// if absent, else English.
    #[serde(default)]
    pub locale: Option<String>,
}

/// Why an invite was not made.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// A field is wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong, in words safe to show the caller.
        reason: String,
    },
    /// No such cart.
    #[error("unknown cart")]
    UnknownCart,
    /// The cart has no credentials configured (cartlink's, or the warehouse's own app).
    #[error("cart not enabled")]
    CartNotEnabled,
    /// The store is connected to another warehouse through the same app, at a cart that keeps
    /// one active token per app and store: a grant would end that warehouse's access.
    #[error("the store is connected to another warehouse through the same app")]
    StoreHeldElsewhere {
        /// The cart's name, for the problem's words.
        cart: String,
        /// The cart's id.
        id: CartId,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mail service could not take the invite email (unreachable, throttled, access
    /// denied). Nothing was sent; the invite stays `pending` with a link nobody holds, as after
    /// a crash before the send, and expires. The caller should try again later.
    #[error("the mail service is unavailable")]
    MailUnavailable,
    /// A rate limit is reached (the warehouse's invites per hour, or the merchant address's
    /// emails per day); nothing was stored or sent.
    #[error("rate limited")]
    RateLimited(RateLimited),
}

impl From<LimitError> for InviteError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Limited(limited) => InviteError::RateLimited(limited),
            LimitError::Store(e) => InviteError::Store(e),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> InviteError {
    InviteError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A made invite, as the warehouse is told of it.
#[derive(Debug)]
pub struct CreatedInvite {
    /// The invite, with its status after the email attempt (`emailed` or `email_failed`).
    pub invite: Invite,
    /// The setup link (it carries the secret link token).
    pub setup_url: String,
}

fn printable(field: &'static str, value: &str, max: usize) -> Result<String, InviteError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must not hold control characters or line breaks",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An invite as its warehouse sees it: the invite and, once the merchant granted access, the
/// connection.
#[derive(Debug)]
pub struct InviteState {
    /// The invite.
    pub invite: Invite,
    /// Its connection, once made.
    pub connection: Option<Connection>,
}

/// What a warehouse's withdrawal of an invite came to.
#[derive(Debug)]
pub enum Withdrawal {
    /// The invite is withdrawn (now, or it was already): its links and code start no grant.
    Withdrawn(InviteState),
    /// The merchant connected their store already; the invite stays as it is.
    AlreadyConnected(InviteState),
}

impl Services {
    /// Withdraws a warehouse's own invite that is not connected yet: one conditional write to
    /// `revoked`, after which its links show the "withdrawn" page and a grant under way is
    /// refused at the callback. Withdrawing twice is the same as once. `None` as for
    /// [`Services::warehouse_invite`].
    pub async fn withdraw_invite(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Option<Withdrawal>, StoreError> {
        let Some(state) = self.warehouse_invite(warehouse, raw_id).await? else {
            return Ok(None);
        };
        let status = state.invite.status;
        if status.is_connected() {
            return Ok(Some(Withdrawal::AlreadyConnected(state)));
        }
        if status == InviteStatus::Revoked {
            return Ok(Some(Withdrawal::Withdrawn(state)));
        }
        let id = state.invite.id.clone();
        match self
            .store
            .set_invite_status(
                &id,
                InviteStatus::Revoked,
                Some("withdrawn by the warehouse"),
                self.clock.now(),
            )
            .await
        {
            // Changed meanwhile (the merchant connected, or another withdrawal won): say what
            // it is now.
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        let Some(now) = self.warehouse_invite(warehouse, raw_id).await? else {
            return Ok(None);
        };
        tracing::info!(invite_id = %id, status = %now.invite.status, "invite withdrawal asked");
        if now.invite.status == InviteStatus::Revoked {
            self.record_invite_event(&id, InviteEventKind::Withdrawn, None, None)
                .await;
        }
        Ok(Some(if now.invite.status.is_connected() {
            Withdrawal::AlreadyConnected(now)
        } else {
            Withdrawal::Withdrawn(now)
        }))
    }

    /// A warehouse's own invite and its connection. An id that does not parse, an unknown
    /// invite and another warehouse's invite are all `None`: nobody learns what exists.
    pub async fn warehouse_invite(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Option<InviteState>, StoreError> {
        let Some(id) = InviteId::parse(raw_id) else {
            return Ok(None);
        };
        let Some(invite) = self.store.invite(&id).await? else {
            return Ok(None);
        };
        if &invite.warehouse.id != warehouse {
            return Ok(None);
        }
        let connection = if invite.status.is_connected() {
            self.store.connection_for_invite(&id).await?
        } else {
            None
        };
        Ok(Some(InviteState { invite, connection }))
    }

    /// Validates `request`, stores the invite (warehouse taken from the caller's key, never the
    /// body) and emails the merchant. An email the mail service refused leaves the invite stored
    /// as `email_failed` with the reason, and the answer says so; a mail service that did not do
    /// the work is [`InviteError::MailUnavailable`], with no status written.
    pub async fn create_invite(
        &self,
        warehouse: &Warehouse,
        request: NewInvite,
    ) -> Result<CreatedInvite, InviteError> {
        self.create_invite_once(warehouse, request, None).await
    }

    /// [`Services::create_invite`] for a request under an `Idempotency-Key`: the invite's id
    /// comes from the key's `seed`, so a retry that took the key over after the first attempt
    /// died finds that attempt's invite instead of making (and emailing) another. It answers
    /// that invite as it stands, with a fresh setup link for it, and sends nothing: an invite
    /// still `pending` may or may not have been emailed. Each invite made is counted against
    /// the warehouse's hourly invites and the address's daily emails first
    /// ([`InviteError::RateLimited`]).
    pub async fn create_invite_once(
        &self,
        warehouse: &Warehouse,
        request: NewInvite,
        seed: Option<&RequestSeed>,
    ) -> Result<CreatedInvite, InviteError> {
        let cart_id = CartId::parse(&request.cart).ok_or(InviteError::UnknownCart)?;
        let cart = self.catalog.get(&cart_id).ok_or(InviteError::UnknownCart)?;
        let merchant_email = normalize_email(&request.merchant_email)
            .ok_or_else(|| invalid("merchant_email", "must be one plain email address"))?;
        let merchant_name = request
            .merchant_name
            .as_deref()
            .map(|n| printable("merchant_name", n, MAX_NAME_LEN))
            .transpose()?;
        let store = store_for(cart, request.store.as_deref())?;
        let app = self
            .invite_app(&warehouse.id, cart, store.as_deref())
            .await?;
        let functions = functions_for(cart, request.functions)?;
        let hours = expiry_hours(request.expires_in_hours)?;
        let locale = match request.locale.as_deref() {
            None => warehouse.locale.unwrap_or_default(),
            Some(tag) => Locale::parse(tag)
                .ok_or_else(|| invalid("locale", "must be one of en, de, fr, es, ja"))?,
        };
        let id = match seed.and_then(|s| InviteId::parse(&s.id("inv"))) {
            Some(id) => {
                if let Some(made) = self.invite_made_before(warehouse, &id).await? {
                    return Ok(made);
                }
                id
            }
            None => InviteId::generate(),
        };
        self.admit_warehouse_invite(&warehouse.id).await?;
        self.admit_merchant_email(&merchant_email).await?;

        let now = self.clock.now();
        let token = InviteToken::generate();
        let code = AccessCode::generate();
        let mut invite = Invite {
            version: 0,
            id,
            warehouse: warehouse.to_ref(),
            cart: cart_id,
            merchant_email,
            merchant_name,
            store,
            functions,
            status: InviteStatus::Pending,
            status_reason: None,
            access_code_hash: code.hash(),
            access_code_hint: code.hint(),
            resends: 0,
            reconnects: None,
            locale,
            created_at: now,
            updated_at: now,
            expires_at: now.plus_secs(i64::from(hours) * 3600),
            app,
        };
        self.store.insert_invite(&invite, &token.hash()).await?;
        tracing::info!(invite_id = %invite.id, warehouse_id = %invite.warehouse.id, cart = %invite.cart, "invite stored");
        self.record_invite_event(&invite.id, InviteEventKind::Created, None, None)
            .await;

        let setup_url = self
            .config
            .public_url(&format!("/setup/{}", token.expose()));
        let (status, reason) = self
            .email_invite(&invite, &cart.name, &setup_url, &code)
            .await?;
        self.settle_invite_email(&mut invite, status, reason)
            .await?;
        Ok(CreatedInvite { invite, setup_url })
    }

    /// Records what became of an invite's email: its status (`emailed` or `email_failed`, with
    /// the reason) in the store and on `invite`, and the matching history event.
    pub(in crate::service) async fn settle_invite_email(
        &self,
        invite: &mut Invite,
        status: InviteStatus,
        reason: Option<String>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.store
            .set_invite_status(&invite.id, status, reason.as_deref(), now)
            .await?;
        let sent = if status == InviteStatus::Emailed {
            InviteEventKind::Emailed
        } else {
            InviteEventKind::EmailFailed
        };
        self.record_invite_event(&invite.id, sent, None, None).await;
        invite.status = status;
        invite.status_reason = reason;
        invite.updated_at = now;
        Ok(())
    }

    /// The invite an earlier attempt of the same idempotent request made, with a fresh setup
    /// link (the first attempt's link is known only by its hash); nothing is sent.
    async fn invite_made_before(
        &self,
        warehouse: &Warehouse,
        id: &InviteId,
    ) -> Result<Option<CreatedInvite>, InviteError> {
        let Some(invite) = self.store.invite(id).await? else {
            return Ok(None);
        };
        if invite.warehouse.id != warehouse.id {
            return Ok(None);
        }
        let token = InviteToken::generate();
        self.store
            .add_link(id, &token.hash(), self.clock.now())
            .await?;
        tracing::warn!(invite_id = %id, status = %invite.status, "invite found from an earlier attempt of its request; not emailed again");
        // The earlier attempt may have died before recording its creation (once per step).
        self.record_invite_event(id, InviteEventKind::Created, None, None)
            .await;
        let setup_url = self
            .config
            .public_url(&format!("/setup/{}", token.expose()));
        Ok(Some(CreatedInvite { invite, setup_url }))
    }

    /// Emails a stored invite to the merchant; answers the status it moves to (`emailed`, or
    /// `email_failed` with the mail service's reason). An outage says nothing about this
    /// invite, so it must not read as a failed email: it is [`InviteError::MailUnavailable`].
    async fn email_invite(
        &self,
        invite: &Invite,
        cart_name: &str,
        setup_url: &str,
        code: &AccessCode,
    ) -> Result<(InviteStatus, Option<String>), InviteError> {
        let sent = match invite_email(
            invite,
            cart_name,
            setup_url,
            &self.config.public_url("/setup"),
            code,
        ) {
            Ok(mail) => self.mailer.send(&mail).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => Ok((InviteStatus::Emailed, None)),
            Err(MailError::Unavailable(_)) => {
                tracing::warn!(invite_id = %invite.id, "invite email not sent: the mail service is unavailable; left pending");
                Err(InviteError::MailUnavailable)
            }
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "invite email not sent");
                Ok((InviteStatus::EmailFailed, Some(e.code().to_owned())))
            }
        }
    }
}

/// The store an invite for `cart` names: a cart that needs one (shop domain, store URL,
/// region) gets it checked against the catalog's anchored pattern now, before any URL is ever
/// built from it.
fn store_for(cart: &CartSpec, raw: Option<&str>) -> Result<Option<String>, InviteError> {
    let store = raw
        .map(|s| printable("store", s, MAX_STORE_LEN))
        .transpose()?;
    match (&cart.input, store) {
        (Some(input), None) => Err(invalid(
            "store",
            format!("{} needs the {} ({})", cart.name, input.key, input.label),
        )),
        (Some(input), Some(raw)) => input
            .validate(&raw)
            .map(Some)
            .map_err(|reason| invalid("store", format!("{}: {reason}", input.key))),
        (None, other) => Ok(other),
    }
}

/// What an invite for `cart` asks for: every function the cart supports when none is named,
/// else the named ones (at least one, each supported, each once).
fn functions_for(
    cart: &CartSpec,
    asked: Option<Vec<Function>>,
) -> Result<Vec<Function>, InviteError> {
    let Some(asked) = asked else {
        return Ok(cart.functions());
    };
    if asked.is_empty() {
        return Err(invalid("functions", "must name at least one function"));
    }
    let mut unique: Vec<Function> = Vec::new();
    for f in asked {
        if !cart.supports(f) {
            return Err(invalid(
                "functions",
                format!("{} does not support {}", cart.name, f.as_str()),
            ));
        }
        if !unique.contains(&f) {
            unique.push(f);
        }
    }
    Ok(unique)
}

/// The invite's life in hours: the default when none is asked, else within the bounds.
fn expiry_hours(asked: Option<u32>) -> Result<u32, InviteError> {
    let hours = asked.unwrap_or(DEFAULT_EXPIRY_HOURS);
    if !(MIN_EXPIRY_HOURS..=MAX_EXPIRY_HOURS).contains(&hours) {
        return Err(invalid(
            "expires_in_hours",
            format!("must be from {MIN_EXPIRY_HOURS} to {MAX_EXPIRY_HOURS}"),
        ));
    }
    Ok(hours)
}
