//! A cart's lifecycle signals: the cart tells cartlink that a merchant removed the app
//! (Shopify's `app/uninstalled`), or asks what the app holds about a shop's customers (its
//! privacy webhooks). Each delivery is verified as its cart documents before anything is read
//! from it ([`shopify`]).
//!
//! An uninstall ends every connection to that cart at that store account, whichever warehouse
//! holds it: each connection's item (its sealed tokens) is replaced by a disconnection record
//! `by: cart` in the one conditional write of a disconnect, then `revoked_at_cart` is recorded
//! in its invite's history (the webhook `connection.revoked`), then the warehouse is emailed,
//! once (its send record). No revocation call is made: the grant is gone at the cart already.
//!
//! Twice at once: the write is conditional on the connection's version, so of concurrent
//! deliveries exactly one writes; the history step is stored once by its key and the email
//! once by its send record. A process that dies right after the write leaves the record: a
//! repeated delivery (the cart retries what was not answered 2xx) finds it by the account and
//! records the step and sends the email still owed.

pub mod bigcommerce;
pub mod bigcommerce_load;
pub mod ebay;
pub mod ecwid;
pub mod shopify;
pub mod square;
pub mod squarespace;
pub mod tiktok;
pub mod wix;

use super::confirm::SendOnce;
use super::Services;
use crate::domain::secrets::random_token;
use crate::domain::{
    CartId, ConnectionId, DisconnectedBy, Disconnection, InviteEventKind, OwnApp, Revocation,
    Timestamp,
};
use crate::email::revoked_at_cart_email;
use crate::store::{EmailKind, StoreError};

/// How long a delivery being handled keeps its id from a concurrent copy; if the handler dies,
/// the cart's next retry after it is handled.
const HANDLING_LEASE_SECS: i64 = 60;

/// How many times an uninstall reads a connection again after its write lost to a change (a
/// refresh wrote new tokens).
const REVOKE_TRIES: u32 = 3;

/// Why a cart's lifecycle delivery was refused. Each has a stable code; none changed anything.
#[derive(Debug, thiserror::Error)]
pub enum CartEventError {
    /// The signature is missing or does not verify with the app's client secret.
    #[error("the signature does not verify")]
    BadSignature,
    /// The delivery's time is too far in the past (or the future).
    #[error("the delivery is stale")]
    Stale,
    /// A delivery with this id was taken already.
    #[error("the delivery was seen before")]
    Replayed,
    /// A header or the body is missing or malformed.
    #[error("malformed delivery: {0}")]
    Malformed(&'static str),
    /// The cart is not configured (no credentials to verify with).
    #[error("the cart is not configured")]
    UnknownCart,
    /// The cart's signing keys could not be fetched; the cart may deliver again.
    #[error("the cart's signing keys could not be fetched")]
    KeysUnavailable,
    /// The store failed; the cart may deliver again.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CartEventError {
    /// The stable code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            CartEventError::BadSignature => "bad_signature",
            CartEventError::Stale => "stale",
            CartEventError::Replayed => "replayed",
            CartEventError::Malformed(_) => "malformed",
            CartEventError::UnknownCart => "unknown_cart",
            CartEventError::KeysUnavailable | CartEventError::Store(_) => "unavailable",
        }
    }
}

/// A signal's time, if it is fresh at `now`: at most `max_age_secs` old (each cart's retry
/// window) and at most `skew_secs` ahead of our clock. One rule for every cart whose signal
/// carries its time.
fn fresh_within(
    at: Timestamp,
    now: Timestamp,
    max_age_secs: i64,
    skew_secs: i64,
) -> Result<Timestamp, CartEventError> {
    if at.0 < now.0 - max_age_secs || at.0 > now.0 + skew_secs {
        return Err(CartEventError::Stale);
    }
    Ok(at)
}

/// An RFC 3339 time a cart sent (`what` names its field when it does not parse).
fn rfc3339_instant(raw: &str, what: &'static str) -> Result<Timestamp, CartEventError> {
    time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .map(|t| Timestamp(t.unix_timestamp()))
        .map_err(|_| CartEventError::Malformed(what))
}

/// A delivery id usable as a lease key (printable, short), from the field `what`.
fn delivery_id<'a>(id: &'a str, what: &'static str) -> Result<&'a str, CartEventError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then_some(id).ok_or(CartEventError::Malformed(what))
}

/// Which connections at an account a cart's signal ends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Signalled {
    /// Those made through the app whose credentials verified the signal (`None`: cartlink's).
    App(Option<OwnApp>),
    /// Every one: the account itself is gone.
    EveryApp,
}

impl Signalled {
    /// Whether the signal ends `connection`.
    fn ends(&self, connection: &crate::domain::Connection) -> bool {
        match self {
            Signalled::App(app) => connection.app == *app,
            Signalled::EveryApp => true,
        }
    }
}

/// What a verified delivery did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartEventOutcome {
    /// An uninstall: this many connections were revoked by this delivery (0 when none was
    /// left, or another delivery revoked them).
    Revoked {
        /// Connections this delivery revoked.
        connections: usize,
    },
    /// A privacy request, answered: cartlink holds no customer data (see
    /// `docs/carts.md`), so there is nothing to send or erase.
    NoCustomerData,
}

impl Services {
    /// Takes a delivery's id (`key`) for handling: answers the owner to settle it with, or
    /// [`CartEventError::Replayed`] when the id was taken before (or is being handled).
    async fn claim_delivery(&self, key: &str, now: Timestamp) -> Result<String, CartEventError> {
        let owner = random_token();
        if self
            .store
            .take_lease(key, &owner, now, HANDLING_LEASE_SECS)
            .await?
        {
            Ok(owner)
        } else {
            tracing::warn!(reason = "replayed", "cart event refused");
            Err(CartEventError::Replayed)
        }
    }

    /// After handling: a handled delivery's id is kept until `keep_until` (after which a copy
    /// is stale anyway); a failed one's is given back, so the cart's retry is handled.
    async fn settle_delivery(
        &self,
        key: &str,
        owner: &str,
        handled: Result<CartEventOutcome, StoreError>,
        now: Timestamp,
        keep_until: Timestamp,
    ) -> Result<CartEventOutcome, CartEventError> {
        match handled {
            Ok(outcome) => {
                let keep = (keep_until.0 - now.0).max(HANDLING_LEASE_SECS);
                self.store.take_lease(key, owner, now, keep).await?;
                Ok(outcome)
            }
            Err(e) => {
                if let Err(release) = self.store.release_lease(key, owner).await {
                    tracing::warn!(error = %release, "delivery id not released; the cart's retry waits for the lease");
                }
                Err(e.into())
            }
        }
    }

    /// Handles a verified signal of `cart` under its delivery `key`: takes the key (a replay is
    /// refused), ends the connections at `account` made through cartlink's app before
    /// `made_by` (none for a signal that names no account: it is only answered), and keeps the
    /// key until `keep_until`, or gives it back when the store failed so the cart's retry runs.
    pub(crate) async fn revoke_signalled(
        &self,
        key: &str,
        cart: &CartId,
        account: Option<&str>,
        made_by: Timestamp,
        keep_until: Timestamp,
    ) -> Result<CartEventOutcome, CartEventError> {
        let now = self.clock.now();
        let owner = self.claim_delivery(key, now).await?;
        let handled = match account {
            Some(account) => self
                .uninstalled_at_cart(cart, account, made_by)
                .await
                .map(|connections| {
                    tracing::info!(cart = %cart, revoked = connections, "cart's revocation handled");
                    CartEventOutcome::Revoked { connections }
                }),
            None => Ok(CartEventOutcome::Revoked { connections: 0 }),
        };
        self.settle_delivery(key, &owner, handled, now, keep_until)
            .await
    }

    /// Revokes every connection to `cart` at `account` made through cartlink's app (the app
    /// whose credentials verified the signal: a warehouse's own app at the same store keeps
    /// its grant) that existed when the cart signalled (`signalled_at`: a connection made
    /// after it is a reinstall, left alone), and finishes any revocation of this account whose
    /// step or email a crash left owed. Answers how many this call revoked.
    pub(crate) async fn uninstalled_at_cart(
        &self,
        cart: &CartId,
        account: &str,
        signalled_at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.revoked_at_account(cart, account, signalled_at, &Signalled::App(None))
            .await
    }

    /// As [`Services::uninstalled_at_cart`], for a signal verified with `app`'s credentials
    /// (`None`: cartlink's app): the connections made through that app.
    pub(crate) async fn uninstalled_through(
        &self,
        cart: &CartId,
        account: &str,
        signalled_at: Timestamp,
        app: Option<OwnApp>,
    ) -> Result<usize, StoreError> {
        self.revoked_at_account(cart, account, signalled_at, &Signalled::App(app))
            .await
    }

    /// As [`Services::uninstalled_at_cart`], for a signal that ends the account itself (eBay's
    /// account deletion): every connection at it, through whichever app.
    pub(crate) async fn account_gone_at_cart(
        &self,
        cart: &CartId,
        account: &str,
        signalled_at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.revoked_at_account(cart, account, signalled_at, &Signalled::EveryApp)
            .await
    }

    async fn revoked_at_account(
        &self,
        cart: &CartId,
        account: &str,
        signalled_at: Timestamp,
        signalled: &Signalled,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for id in self.store.ids_at_account(cart, account).await? {
            if self.revoke_one(&id, signalled_at, signalled).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    /// Revokes one connection (answers true when this call wrote), or finishes a revocation
    /// already written.
    async fn revoke_one(
        &self,
        id: &ConnectionId,
        signalled_at: Timestamp,
        signalled: &Signalled,
    ) -> Result<bool, StoreError> {
        for _ in 0..REVOKE_TRIES {
            let Some(connection) = self.store.connection(id).await? else {
                break;
            };
            if connection.created_at > signalled_at || !signalled.ends(&connection) {
                return Ok(false);
            }
            let record = Disconnection::of(
                &connection,
                self.clock.now(),
                Revocation::Revoked,
                DisconnectedBy::Cart,
            );
            match self.store.disconnect(&record, connection.version).await {
                Ok(()) => {
                    tracing::info!(connection_id = %id, warehouse_id = %record.warehouse_id, "connection revoked at the cart; tokens deleted");
                    self.finish_revocation(&record).await?;
                    return Ok(true);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        match self.store.disconnection(id).await? {
            Some(record) if record.by == DisconnectedBy::Cart => {
                self.finish_revocation(&record).await?;
            }
            _ => {}
        }
        Ok(false)
    }

    /// The history step (scoped by the connection, so it names what was dropped) and the
    /// warehouse's email, each once however often this runs.
    async fn finish_revocation(&self, record: &Disconnection) -> Result<(), StoreError> {
        self.record_invite_event(
            &record.invite_id,
            InviteEventKind::RevokedAtCart,
            Some(record.connection_id.as_str()),
            None,
        )
        .await;
        self.tell_of_revocation_at_cart(record).await
    }

    /// Emails the warehouse that the merchant removed the app at the cart, once (its send
    /// record). A mail service that fails is logged: a repeated delivery sends it.
    pub(super) async fn tell_of_revocation_at_cart(
        &self,
        record: &Disconnection,
    ) -> Result<(), StoreError> {
        let Some(invite) = self.store.invite(&record.invite_id).await? else {
            return Ok(());
        };
        let cart_name = self.catalog.display_name(&invite.cart);
        let connection = record.connection_id.as_str();
        let email =
            || revoked_at_cart_email(&invite, &cart_name, connection, record.disconnected_at);
        if let SendOnce::Failed(e) = self
            .send_once(&invite.id, EmailKind::RevokedAtCart, email)
            .await?
        {
            tracing::warn!(connection_id = %connection, error = %e, "revocation email not sent; a repeated delivery sends it");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
