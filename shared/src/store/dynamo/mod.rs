//! The DynamoDB store: one table, single-table design.
//!
//! # Keys and items
//!
//! Keys hold opaque ids and SHA-256 hashes only: never an email address, a shop domain, a link
//! token, an access code or a `state`.
//!
//! | item | `pk` | `sk` | other attributes | written by |
//! | --- | --- | --- | --- | --- |
//! | invite | `INV#<invite id>` | `INV` | `entity=invite`, `invite_id`, `warehouse_id`, `status`, `status_reason`, `created_at`, `updated_at`, `expires_at`, `code_hash`, `code_hint`, `resends`, `latest_state`, `connection_id`, `gsi1pk`, `gsi1sk`, `gsi2pk`, `gsi2sk` (only while `authorized`), `gsi3pk`, `gsi3sk`, `ttl`, `body` | warehouse-api puts it, and a resend updates only `code_hash`, `code_hint`, `resends`, `updated_at` (conditional on `resends` and the status); status writers (warehouse-api, grant-page, oauth-callback, confirmation, mail-events) update only `status`, `status_reason`, `updated_at`, `gsi1sk`, `gsi2pk`, `gsi2sk` and (grant-page) `latest_state`, (oauth-callback) `connection_id` |
//! | setup link | `LINK#<sha256 of link token>` | `LINK` | `entity=link`, `invite_id`, `created_at`, `resends` (the invite's when issued: a link of an earlier `resends` opens nothing), `ttl` | warehouse-api (and its resend), grant-page (access code), oauth-callback (retry link): put only |
//! | access code | `CODE#<sha256 of code>` | `CODE` | `entity=code`, `invite_id`, `resends`, `ttl` | warehouse-api puts it; a resend deletes it and puts the new code's |
//! | disconnection | `DISC#<connection id>` | `DISC` | `entity=disconnection`, `warehouse_id`, `invite_id`, `revocation`, `body` | warehouse-api (disconnect): put in the transaction that deletes the connection's item; then only `revocation`, from `pending` |
//! | grant attempt | `ATT#<sha256 of state>` | `ATT` | `entity=attempt`, `invite_id`, `status`, `created_at`, `expires_at`, `claim_until`, `ttl`, `body` | grant-page puts it; oauth-callback updates only `status` and (its claim, conditional on `open` and `expires_at`) `claim_until` |
//! | connection | `CON#<connection id>` | `CON` | `entity=connection`, `invite_id`, `warehouse_id`, `cart`, `status`, `version`, `tokens` (sealed envelope), `token_expires_at`, `refreshed_at`, `granted_at` (a reconnect's), `care_at`, `care_noticed`, `subscribed_at`, `gsi1pk=CARE` and `gsi1sk` (only with a `care_at`), `gsi3pk`, `gsi3sk`, `body` | oauth-callback puts it; token writers update only `tokens`, `token_expires_at`, `version` (conditional on `version`), the care time with its `gsi1` keys and, for a refresh, `refreshed_at`; status writers only `status` (any but `active` removes the care time); care only the care time, `care_noticed` and `subscribed_at` (conditional on `version`, which stays) |
//! | send record | `INV#<invite id>` | `SEND#<email kind>` (a resend's with its number, `SEND#invite_resend_2`) | `entity=send`, `status` (`sending`, `pending`, `sent`), `lease_until`, `message_id`, `updated_at` | confirmation, warehouse-api |
//! | invite event | `INV#<invite id>` | `EVT#<step key>` | `entity=event`, `kind`, `at`, `reason`, `ttl` | the services where each step happens: put only, if absent (one per step) |
//! | webhook endpoint | `WEBHOOKS#<warehouse id>` | `WHE#<endpoint id>` | `entity=webhook_endpoint`, `revision`, `body` (URL, types, sealed signing secrets, disabled) | warehouse-api puts, updates (conditional on `revision`) and deletes it; webhooks updates it (disabled on 410) |
//! | webhook delivery | `DLV#<delivery id>` | `DLV` | `entity=webhook_delivery`, `warehouse_id`, `status`, `tries`, `gsi3pk` (`DELIVERIES#<warehouse id>`), `gsi3sk`, `ttl`, `body` (payload, tries, next try) | webhooks puts it (if absent) and updates it conditional on `status` and `tries`; warehouse-api (retry) the same |
//! | rate counter | `HIT#<counter key of hashes>` | `W#<window start>` | `count`, `ttl` | grant-page: `ADD count 1` only while `count` is below the limit |
//! | lease | `LEASE#<lease key of opaque ids>` | `LEASE` | `entity=lease`, `owner` (a random id), `until`, `ttl` | the token refresher (`refresh:<connection id>`): conditional on being free, expired or its own; deleted only by its owner |
//! | manage link | `MLINK#<sha256 of manage token>` | `MLINK` | `entity=manage_link`, `connection_id`, `invite_id`, `created_at`, `merchant` | confirmation, grant-page (a lost link sent again): put only, if absent, in one transaction with the next row |
//! | managed connection | `MADDR#<sha256 of the merchant's address, lower-cased>` | `CON#<connection id>` | `entity=managed_connection`, `connection_id`, `invite_id`, `created_at`, `merchant` (of the latest link) | with each manage link: put |
//! | last token fetch | `FETCH#<connection id>` | `FETCH` | `entity=token_fetch`, `at` | connection-tokens: `at` only, at most once a minute, never back |
//! | idempotency record | `IDEM#<warehouse id>#<sha256 of the Idempotency-Key>` | `IDEM` | `entity=idempotency`, `request_hash`, `state` (`in_progress`, `done`), `owner` (a random id), `first_owner`, `lease_until`, `expires_at`, `ttl` (= `expires_at`), `answer_status`, `answer_type`, `answer_body` (sealed envelope) | warehouse-api: put only when absent or past `expires_at`; taken over only in progress, lease lapsed, same `request_hash`; finished or deleted only by its owner |
//! | warehouse (tenant) | `WH#<warehouse id>` | `WH` | `entity=tenant`, `warehouse_id`, `display_name`, `notify_email`, `created_at`, `disabled`, `accent`, `support_email`, `privacy_url`, `logo_version`, `gsi3pk=TENANTS`, `gsi3sk` | the admin API: put if absent; then only `disabled`, the branding attributes, and `logo_version` (conditional on the one read) |
//! | logo | `WH#<warehouse id>` | `LOGO` | `entity=logo`, `png` (binary, a PNG we encoded), `version` | the admin API, in the transaction that bumps `logo_version` |
//! | API key | `KEY#<sha256 of the key>` | `KEY` | `entity=api_key`, `key_id`, `warehouse_id`, `hash`, `prefix`, `name`, `created_at`, `last_used_at`, `revoked_at`, `gsi3pk=KEYS#<warehouse id>`, `gsi3sk` | the admin API puts it (if absent, its warehouse existing) and sets `revoked_at` once; the warehouse API sets `last_used_at` at most every five minutes |
//! | cart subscription | `CSUB#<cart>#<account>` | `CSUB` | `entity=cart_subscription`, `body` (the cart's subscription id, the sealed secret, when stored) | care puts it whole (created, or its secret rotated); cart-events reads it to verify a delivery |
//!
//! `body` is the JSON of the fields that never change after the item is made; every field that
//! changes is its own attribute, so no writer ever puts back a whole item it read earlier.
//!
//! # Index
//!
//! `gsi1` (projection ALL): `gsi1pk = WH#<warehouse id>`, `gsi1sk = <status>#<created_at, 12
//! digits>#<invite id>`. A warehouse's invites in one status, newest first, are one Query with
//! `begins_with(gsi1sk, "<status>#")`; all its invites are one Query on `gsi1pk`.
//! Connections with a care time carry `gsi1pk = CARE`, `gsi1sk = <care_at, 12 digits>#<connection
//! id>` (the care schedule, `care.rs`): what is due is one Query for `gsi1sk` below the next
//! second, the earliest first.
//!
//! `gsi2` (sparse, projection ALL): `gsi2pk = AUTHORIZED`, `gsi2sk = <updated_at, 12
//! digits>#<invite id>`, set by the callback's commit and removed by every change out of
//! `authorized`. It holds only the invites whose confirmations are still owed, oldest first: one
//! Query, however many invites the table holds.
//!
//! `gsi3` (projection ALL): `gsi3pk = INVITES#<warehouse id>` on invites and
//! `CONNECTIONS#<warehouse id>` on connections (also `TENANTS` on stored warehouses and
//! `KEYS#<warehouse id>` on API key records, read whole, oldest first), `gsi3sk = <created_at,
//! 12 digits>#<id>`, both written once when the record is made. A warehouse's invites (or connections) newest first, in
//! a total order, are one Query; a page after a cursor is `gsi3sk < <the cursor's key>`. The
//! lists' filters (status, cart, merchant address) are applied in code while paging
//! (`listing.rs`). Items made before the index existed carry no `gsi3` keys and are not listed.
//! Like every global index it is eventually consistent: a status changed a moment ago may still
//! show its old value in a list (`GET` of one record reads the table itself).
//!
//! # Expiry
//!
//! `ttl` (epoch seconds) only collects garbage, up to days late: every read checks `expires_at`
//! in code. Invites, links and codes are kept 30 days past expiry, attempts one day.
//!
//! # Stream
//!
//! NEW_AND_OLD_IMAGES. The confirmation function acts on an invite item whose `status` changes
//! into `authorized`; [`stream::classify`] reads a record's images to tell.
//!
//! # Files
//!
//! `item.rs` holds the attribute values and keys every item shares; `listing.rs` pages the
//! warehouse lists; `invites.rs`, `attempts.rs`, `connections.rs` (with the callback's commit),
//! `sends.rs`, `counters.rs`, `disconnections.rs`, `leases.rs`, `idempotency.rs`, `events.rs` and
//! `tenants.rs`, `manage.rs` and `webhooks.rs` each implement one part of the port on their
//! items; `stream.rs` reads the
//! stream's records.

mod accounts;
mod attempts;
mod care;
mod cart_apps;
mod cart_subscriptions;
mod connections;
mod counters;
mod disconnections;
mod events;
mod idempotency;
mod invites;
mod item;
mod leases;
mod listing;
mod manage;
mod reconnects;
mod sends;
pub mod stream;
mod tenants;
mod webhooks;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::StoreError;
use crate::domain::{InviteId, Timestamp};
use crate::telemetry::alarm;
use item::{invite_key, need_n, Item};

/// The name of the warehouse index.
pub const GSI1: &str = "gsi1";
/// The name of the sparse index of invites in `authorized`.
pub const GSI2: &str = "gsi2";
/// The name of the warehouse list index (invites and connections, newest first).
pub const GSI3: &str = "gsi3";

/// The DynamoDB store.
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// DynamoDB did not do the work: logged once with the alarm field, answered as
/// [`StoreError::Unavailable`].
fn unavailable<E: std::error::Error + 'static>(e: E) -> StoreError {
    let detail = DisplayErrorContext(e).to_string();
    tracing::error!(alarm = alarm::STORE_UNAVAILABLE, store = "dynamodb", error = %detail, "store call failed");
    StoreError::Unavailable(detail)
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    unavailable(e)
}

/// Every other Lambda writes the table too, and nothing tells this one when: nothing read is
/// reused (the default `None`).
impl crate::store::ChangeWatch for DynamoStore {}

/// Whether a single-item write failed on its condition.
fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// Settles a single-item conditional write: its condition failing becomes `on_condition`, any
/// other failure [`StoreError::Unavailable`].
fn settle<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    on_condition: StoreError,
) -> Result<(), StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if condition_failed(&e) => Err(on_condition),
        Err(e) => Err(unavailable(e)),
    }
}

/// Whether a conditional single-item write succeeded (`true`), failed on its condition
/// (`false`), or failed.
fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

impl DynamoStore {
    /// Every item `query` matches, page after page.
    async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// Writes `record` as the JSON `body` of the item at `key`, marked `entity`, replacing
    /// whatever was there.
    async fn put_body<T: serde::Serialize + Sync>(
        &self,
        mut key: Item,
        entity: &str,
        record: &T,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        key.insert("body".to_owned(), item::s(body));
        key.insert("entity".to_owned(), item::s(entity));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The record kept as the JSON `body` of the item at `key` ([`item::body_of`]).
    async fn get_body<T: serde::de::DeserializeOwned>(
        &self,
        key: Item,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.get(key)
            .await?
            .map(|found| item::body_of(&found, what))
            .transpose()
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Runs a transaction, retrying a transaction conflict with the same request token; a
    /// cancelled transaction (a condition failed) is a [`StoreError::Conflict`].
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        token: Option<String>,
        what: &'static str,
    ) -> Result<(), StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .set_client_request_token(token.clone())
                .send()
                .await;
            let Err(e) = result else {
                return Ok(());
            };
            let code = e
                .as_service_error()
                .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
                .unwrap_or_default()
                .to_owned();
            match code.as_str() {
                "TransactionCanceledException" => {
                    let conflict = e
                        .as_service_error()
                        .and_then(|se| match se {
                            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c.cancellation_reasons()),
                            _ => None,
                        })
                        .is_some_and(|reasons| {
                            reasons.iter().any(|r| r.code() == Some("TransactionConflict"))
                        });
                    if conflict && tries < 4 {
                        continue;
                    }
                    return Err(StoreError::Conflict(what));
                }
                "TransactionConflictException"
                | "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                    if tries < 4 =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
                    continue;
                }
                _ => return Err(unavailable(e)),
            }
        }
    }

    fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .build()
                    .map_err(build_err)?,
            )
            .build())
    }

    async fn created_at(&self, id: &InviteId) -> Result<Timestamp, StoreError> {
        let item = self
            .get(invite_key(id.as_str()))
            .await?
            .ok_or(StoreError::Missing("invite"))?;
        Ok(Timestamp(need_n(&item, "created_at")?))
    }
}
