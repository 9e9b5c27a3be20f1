//! The DynamoDB store: one table, single-table design.
//!
//! # Keys and items
//!
//! Keys hold opaque ids and SHA-256 hashes only: never an email address, a shop domain, a link
//! token, an access code or a `state`.
//!
//! | item | `pk` | `sk` | other attributes | written by |
//! | --- | --- | --- | --- | --- |
//! | invite | `INV#<invite id>` | `INV` | `entity=invite`, `invite_id`, `warehouse_id`, `status`, `status_reason`, `created_at`, `updated_at`, `expires_at`, `latest_state`, `connection_id`, `gsi1pk`, `gsi1sk`, `gsi2pk`, `gsi2sk` (only while `authorized`), `ttl`, `body` | create-invite puts it; status writers (create-invite, grant-page, oauth-callback, confirmation, mail-events) update only `status`, `status_reason`, `updated_at`, `gsi1sk`, `gsi2pk`, `gsi2sk` and (grant-page) `latest_state`, (oauth-callback) `connection_id` |
//! | setup link | `LINK#<sha256 of link token>` | `LINK` | `entity=link`, `invite_id`, `created_at`, `ttl` | create-invite, grant-page (access code), oauth-callback (retry link): put only |
//! | access code | `CODE#<sha256 of code>` | `CODE` | `entity=code`, `invite_id`, `ttl` | create-invite: put only |
//! | grant attempt | `ATT#<sha256 of state>` | `ATT` | `entity=attempt`, `invite_id`, `status`, `created_at`, `expires_at`, `claim_until`, `ttl`, `body` | grant-page puts it; oauth-callback updates only `status` and (its claim, conditional on `open` and `expires_at`) `claim_until` |
//! | connection | `CON#<connection id>` | `CON` | `entity=connection`, `invite_id`, `warehouse_id`, `cart`, `status`, `version`, `tokens` (sealed envelope), `token_expires_at`, `body` | oauth-callback puts it; token writers update only `tokens`, `token_expires_at`, `version` (conditional on `version`); status writers only `status` |
//! | send record | `INV#<invite id>` | `SEND#<email kind>` | `entity=send`, `status` (`sending`, `pending`, `sent`), `lease_until`, `message_id`, `updated_at` | confirmation, create-invite |
//! | rate counter | `HIT#<counter key of hashes>` | `W#<window start>` | `count`, `ttl` | grant-page: `ADD count 1` only while `count` is below the limit |
//! | lease | `LEASE#<lease key of opaque ids>` | `LEASE` | `entity=lease`, `owner` (a random id), `until`, `ttl` | the token refresher (`refresh:<connection id>`): conditional on being free, expired or its own; deleted only by its owner |
//!
//! `body` is the JSON of the fields that never change after the item is made; every field that
//! changes is its own attribute, so no writer ever puts back a whole item it read earlier.
//!
//! # Index
//!
//! `gsi1` (projection ALL): `gsi1pk = WH#<warehouse id>`, `gsi1sk = <status>#<created_at, 12
//! digits>#<invite id>`. A warehouse's invites in one status, newest first, are one Query with
//! `begins_with(gsi1sk, "<status>#")`; all its invites are one Query on `gsi1pk`.
//!
//! `gsi2` (sparse, projection ALL): `gsi2pk = AUTHORIZED`, `gsi2sk = <updated_at, 12
//! digits>#<invite id>`, set by the callback's commit and removed by every change out of
//! `authorized`. It holds only the invites whose confirmations are still owed, oldest first: one
//! Query, however many invites the table holds.
//!
//! # Expiry
//!
//! `ttl` (epoch seconds) only collects garbage, up to days late: every read checks `expires_at`
//! in code. Invites, links and codes are kept 30 days past expiry, attempts one day.
//!
//! # Stream
//!
//! NEW_AND_OLD_IMAGES. The confirmation function acts on an invite item whose `status` changes
//! into `authorized`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::record::{
    body_without, with_fields, ATTEMPT_MUTABLE, CONNECTION_MUTABLE, INVITE_MUTABLE,
};
use super::{EmailKind, SendClaim, Store, StoreError};
use crate::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt, Invite, InviteId,
    InviteStatus, Timestamp, TokenHash, WarehouseId,
};
use crate::telemetry::alarm;
use crate::vault::SealedBlob;

type Item = HashMap<String, AttributeValue>;

/// The name of the warehouse index.
pub const GSI1: &str = "gsi1";
/// The name of the sparse index of invites in `authorized`.
pub const GSI2: &str = "gsi2";
/// The one `gsi2pk` value: invites whose confirmations are owed.
const GSI2_AUTHORIZED: &str = "AUTHORIZED";
/// How long invites, links and codes are kept after they expire (garbage collection only).
const KEEP_AFTER_EXPIRY: i64 = 30 * 24 * 3600;

/// The DynamoDB store.
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, k: &str) -> Option<&'a str> {
    item.get(k)?.as_s().ok().map(String::as_str)
}

fn get_n(item: &Item, k: &str) -> Option<i64> {
    item.get(k)?.as_n().ok()?.parse().ok()
}

fn need_s<'a>(item: &'a Item, k: &'static str) -> Result<&'a str, StoreError> {
    get_s(item, k).ok_or(StoreError::Corrupt(format!("item lacks {k}")))
}

fn need_n(item: &Item, k: &'static str) -> Result<i64, StoreError> {
    get_n(item, k).ok_or(StoreError::Corrupt(format!("item lacks {k}")))
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn invite_key(id: &str) -> Item {
    key(format!("INV#{id}"), "INV")
}

fn attempt_key(state: &TokenHash) -> Item {
    key(format!("ATT#{}", state.as_str()), "ATT")
}

fn connection_key(id: &str) -> Item {
    key(format!("CON#{id}"), "CON")
}

fn send_key(invite: &InviteId, kind: EmailKind) -> Item {
    key(format!("INV#{invite}"), &format!("SEND#{}", kind.as_str()))
}

fn gsi1sk(status: InviteStatus, created_at: Timestamp, id: &str) -> String {
    format!("{}#{:012}#{}", status.as_str(), created_at.0, id)
}

fn gsi2sk(authorized_at: Timestamp, id: &str) -> String {
    format!("{:012}#{}", authorized_at.0, id)
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

/// The `:from0, :from1, …` of a status condition, with their values.
fn status_in(from: &[InviteStatus]) -> (String, Vec<(String, AttributeValue)>) {
    let names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
    let values = names
        .iter()
        .zip(from)
        .map(|(k, v)| (k.clone(), s(v.as_str())))
        .collect();
    (names.join(", "), values)
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
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

    fn invite_from(item: &Item) -> Result<Invite, StoreError> {
        with_fields(
            need_s(item, "body")?,
            vec![
                ("status", Value::String(need_s(item, "status")?.to_owned())),
                (
                    "status_reason",
                    get_s(item, "status_reason")
                        .map_or(Value::Null, |r| Value::String(r.to_owned())),
                ),
                ("updated_at", need_n(item, "updated_at")?.into()),
                ("expires_at", need_n(item, "expires_at")?.into()),
            ],
        )
    }

    fn attempt_from(item: &Item) -> Result<GrantAttempt, StoreError> {
        with_fields(
            need_s(item, "body")?,
            vec![
                ("status", Value::String(need_s(item, "status")?.to_owned())),
                (
                    "claim_until",
                    get_n(item, "claim_until").map_or(Value::Null, Value::from),
                ),
            ],
        )
    }

    fn connection_from(item: &Item) -> Result<Connection, StoreError> {
        let tokens: Value = serde_json::from_str(need_s(item, "tokens")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        with_fields(
            need_s(item, "body")?,
            vec![
                ("status", Value::String(need_s(item, "status")?.to_owned())),
                ("version", need_n(item, "version")?.into()),
                ("tokens", tokens),
                (
                    "token_expires_at",
                    get_n(item, "token_expires_at").map_or(Value::Null, Value::from),
                ),
            ],
        )
    }

    async fn invite_by_pointer(&self, pointer: Item) -> Result<Option<Invite>, StoreError> {
        let Some(item) = self.get(pointer).await? else {
            return Ok(None);
        };
        let id = need_s(&item, "invite_id")?.to_owned();
        self.get(invite_key(&id))
            .await?
            .map(|i| Self::invite_from(&i))
            .transpose()
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

#[async_trait]
impl Store for DynamoStore {
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError> {
        let id = invite.id.as_str();
        let ttl = invite.expires_at.0 + KEEP_AFTER_EXPIRY;
        let mut item = invite_key(id);
        item.extend([
            ("entity".to_owned(), s("invite")),
            ("invite_id".to_owned(), s(id)),
            ("warehouse_id".to_owned(), s(invite.warehouse.id.as_str())),
            ("status".to_owned(), s(invite.status.as_str())),
            ("created_at".to_owned(), n(invite.created_at.0)),
            ("updated_at".to_owned(), n(invite.updated_at.0)),
            ("expires_at".to_owned(), n(invite.expires_at.0)),
            ("ttl".to_owned(), n(ttl)),
            (
                "gsi1pk".to_owned(),
                s(format!("WH#{}", invite.warehouse.id)),
            ),
            (
                "gsi1sk".to_owned(),
                s(gsi1sk(invite.status, invite.created_at, id)),
            ),
            ("body".to_owned(), s(body_without(invite, &INVITE_MUTABLE)?)),
        ]);
        if let Some(r) = &invite.status_reason {
            item.insert("status_reason".into(), s(r));
        }
        let mut link_item = key(format!("LINK#{}", link.as_str()), "LINK");
        link_item.extend([
            ("entity".to_owned(), s("link")),
            ("invite_id".to_owned(), s(id)),
            ("created_at".to_owned(), n(invite.created_at.0)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let mut code_item = key(format!("CODE#{}", invite.access_code_hash.as_str()), "CODE");
        code_item.extend([
            ("entity".to_owned(), s("code")),
            ("invite_id".to_owned(), s(id)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let absent = "attribute_not_exists(pk)";
        self.transact(
            vec![
                self.put(item, absent)?,
                self.put(link_item, absent)?,
                self.put(code_item, absent)?,
            ],
            None,
            "invite exists",
        )
        .await
    }

    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError> {
        self.get(invite_key(id.as_str()))
            .await?
            .map(|i| Self::invite_from(&i))
            .transpose()
    }

    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.invite_by_pointer(key(format!("LINK#{}", link.as_str()), "LINK"))
            .await
    }

    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.invite_by_pointer(key(format!("CODE#{}", code.as_str()), "CODE"))
            .await
    }

    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(found) = self.get(invite_key(invite.as_str())).await? else {
            return Err(StoreError::Missing("invite"));
        };
        let ttl = need_n(&found, "expires_at")? + KEEP_AFTER_EXPIRY;
        let mut item = key(format!("LINK#{}", link.as_str()), "LINK");
        item.extend([
            ("entity".to_owned(), s("link")),
            ("invite_id".to_owned(), s(invite.as_str())),
            ("created_at".to_owned(), n(now.0)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let check = TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(invite_key(invite.as_str())))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)?,
            )
            .build();
        self.transact(
            vec![check, self.put(item, "attribute_not_exists(pk)")?],
            None,
            "link exists",
        )
        .await
    }

    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let created = self.created_at(id).await?;
        let (list, values) = status_in(&InviteStatus::sources_of(to));
        let mut vals: HashMap<String, AttributeValue> = values.into_iter().collect();
        vals.insert(":to".into(), s(to.as_str()));
        vals.insert(":now".into(), n(now.0));
        vals.insert(":gsk".into(), s(gsi1sk(to, created, id.as_str())));
        let mut set = vec!["#status = :to, #updated_at = :now, #gsi1sk = :gsk"];
        let mut remove = vec![];
        match reason {
            Some(r) => {
                vals.insert(":reason".into(), s(r));
                set.push("#status_reason = :reason");
            }
            None => remove.push("#status_reason"),
        }
        // The owed-confirmations index holds an invite exactly while it is authorized.
        if to == InviteStatus::Authorized {
            vals.insert(":g2pk".into(), s(GSI2_AUTHORIZED));
            vals.insert(":g2sk".into(), s(gsi2sk(now, id.as_str())));
            set.push("#gsi2pk = :g2pk, #gsi2sk = :g2sk");
        } else {
            remove.push("#gsi2pk, #gsi2sk");
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invite_key(id.as_str())))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND #status IN ({list})"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#status_reason", "status_reason")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#gsi1sk", "gsi1sk")
            .expression_attribute_names("#gsi2pk", "gsi2pk")
            .expression_attribute_names("#gsi2sk", "gsi2sk")
            .set_expression_attribute_values(Some(vals));
        settle(req.send().await, StoreError::Conflict("invite status"))
    }

    async fn begin_attempt(
        &self,
        attempt: &GrantAttempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let created = match self.created_at(&attempt.invite_id).await {
            Ok(c) => c,
            Err(StoreError::Missing(_)) => {
                return Err(StoreError::Conflict("invite does not accept a grant"))
            }
            Err(e) => return Err(e),
        };
        let id = attempt.invite_id.as_str();
        let (list, values) = status_in(&InviteStatus::sources_of(InviteStatus::Granting));
        let mut vals: HashMap<String, AttributeValue> = values.into_iter().collect();
        vals.extend([
            (":to".to_owned(), s(InviteStatus::Granting.as_str())),
            (":now".to_owned(), n(now.0)),
            (":state".to_owned(), s(attempt.state_hash.as_str())),
            (
                ":gsk".to_owned(),
                s(gsi1sk(InviteStatus::Granting, created, id)),
            ),
        ]);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(invite_key(id)))
            .update_expression(
                "SET #status = :to, #updated_at = :now, #latest_state = :state, #gsi1sk = :gsk \
                 REMOVE #status_reason",
            )
            .condition_expression(format!("#status IN ({list}) AND #expires_at > :now"))
            .set_expression_attribute_names(Some(HashMap::from([
                ("#status".to_owned(), "status".to_owned()),
                ("#updated_at".to_owned(), "updated_at".to_owned()),
                ("#latest_state".to_owned(), "latest_state".to_owned()),
                ("#gsi1sk".to_owned(), "gsi1sk".to_owned()),
                ("#status_reason".to_owned(), "status_reason".to_owned()),
                ("#expires_at".to_owned(), "expires_at".to_owned()),
            ])))
            .set_expression_attribute_values(Some(vals))
            .build()
            .map_err(build_err)?;
        let mut item = attempt_key(&attempt.state_hash);
        item.extend([
            ("entity".to_owned(), s("attempt")),
            ("invite_id".to_owned(), s(id)),
            ("status".to_owned(), s(attempt.status.as_str())),
            ("created_at".to_owned(), n(attempt.created_at.0)),
            ("expires_at".to_owned(), n(attempt.expires_at.0)),
            ("ttl".to_owned(), n(attempt.expires_at.0 + 24 * 3600)),
            (
                "body".to_owned(),
                s(body_without(attempt, &ATTEMPT_MUTABLE)?),
            ),
        ]);
        if let Some(t) = attempt.claim_until {
            item.insert("claim_until".into(), n(t.0));
        }
        self.transact(
            vec![
                TransactWriteItem::builder().update(update).build(),
                self.put(item, "attribute_not_exists(pk)")?,
            ],
            None,
            "invite does not accept a grant",
        )
        .await
    }

    async fn attempt(&self, state: &TokenHash) -> Result<Option<GrantAttempt>, StoreError> {
        self.get(attempt_key(state))
            .await?
            .map(|i| Self::attempt_from(&i))
            .transpose()
    }

    async fn latest_attempt(&self, invite: &InviteId) -> Result<Option<GrantAttempt>, StoreError> {
        let Some(item) = self.get(invite_key(invite.as_str())).await? else {
            return Ok(None);
        };
        let Some(state) = get_s(&item, "latest_state").and_then(TokenHash::from_stored) else {
            return Ok(None);
        };
        self.attempt(&state).await
    }

    async fn claim_attempt(
        &self,
        state: &TokenHash,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(attempt_key(state)))
            .update_expression("SET #status = :exchanging, #claim_until = :until")
            .condition_expression("#status = :open AND #expires_at > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#claim_until", "claim_until")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_values(":exchanging", s(AttemptStatus::Exchanging.as_str()))
            .expression_attribute_values(":open", s(AttemptStatus::Open.as_str()))
            .expression_attribute_values(":until", n(claim_until.0))
            .expression_attribute_values(":now", n(now.0))
            .send()
            .await;
        settle(result, StoreError::Conflict("attempt not open"))
    }

    async fn close_attempt(
        &self,
        state: &TokenHash,
        from: AttemptStatus,
        outcome: AttemptStatus,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(attempt_key(state)))
            .update_expression("SET #status = :outcome")
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":outcome", s(outcome.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .send()
            .await;
        settle(
            result,
            StoreError::Conflict("attempt not in the expected state"),
        )
    }

    async fn commit_authorization(
        &self,
        connection: &Connection,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let invite_id = connection.invite_id.as_str();
        let created = match self.created_at(&connection.invite_id).await {
            Ok(c) => c,
            Err(StoreError::Missing(_)) => return Err(StoreError::Conflict("invite missing")),
            Err(e) => return Err(e),
        };
        let mut item = connection_key(connection.id.as_str());
        item.extend([
            ("entity".to_owned(), s("connection")),
            ("invite_id".to_owned(), s(invite_id)),
            (
                "warehouse_id".to_owned(),
                s(connection.warehouse_id.as_str()),
            ),
            ("cart".to_owned(), s(connection.cart.as_str())),
            ("status".to_owned(), s(connection.status.as_str())),
            (
                "version".to_owned(),
                n(i64::try_from(connection.version).unwrap_or(i64::MAX)),
            ),
            (
                "tokens".to_owned(),
                s(serde_json::to_string(&connection.tokens)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?),
            ),
            (
                "body".to_owned(),
                s(body_without(connection, &CONNECTION_MUTABLE)?),
            ),
        ]);
        if let Some(t) = connection.token_expires_at {
            item.insert("token_expires_at".into(), n(t.0));
        }
        let invite_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(invite_key(invite_id)))
            .update_expression(
                "SET #status = :authorized, #updated_at = :now, #connection_id = :con, #gsi1sk = :gsk, \
                 #gsi2pk = :g2pk, #gsi2sk = :g2sk REMOVE #status_reason",
            )
            .condition_expression(
                "#status = :granting AND #expires_at > :now AND attribute_not_exists(#connection_id)",
            )
            .set_expression_attribute_names(Some(HashMap::from([
                ("#status".to_owned(), "status".to_owned()),
                ("#updated_at".to_owned(), "updated_at".to_owned()),
                ("#connection_id".to_owned(), "connection_id".to_owned()),
                ("#gsi1sk".to_owned(), "gsi1sk".to_owned()),
                ("#gsi2pk".to_owned(), "gsi2pk".to_owned()),
                ("#gsi2sk".to_owned(), "gsi2sk".to_owned()),
                ("#status_reason".to_owned(), "status_reason".to_owned()),
                ("#expires_at".to_owned(), "expires_at".to_owned()),
            ])))
            .set_expression_attribute_values(Some(HashMap::from([
                (":authorized".to_owned(), s(InviteStatus::Authorized.as_str())),
                (":g2pk".to_owned(), s(GSI2_AUTHORIZED)),
                (":g2sk".to_owned(), s(gsi2sk(now, invite_id))),
                (":granting".to_owned(), s(InviteStatus::Granting.as_str())),
                (":now".to_owned(), n(now.0)),
                (":con".to_owned(), s(connection.id.as_str())),
                (
                    ":gsk".to_owned(),
                    s(gsi1sk(InviteStatus::Authorized, created, invite_id)),
                ),
            ])))
            .build()
            .map_err(build_err)?;
        let attempt_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(attempt_key(state)))
            .update_expression("SET #status = :completed")
            .condition_expression(
                "#status = :exchanging AND #invite_id = :invite AND #claim_until > :now",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#invite_id", "invite_id")
            .expression_attribute_names("#claim_until", "claim_until")
            .expression_attribute_values(":completed", s(AttemptStatus::Completed.as_str()))
            .expression_attribute_values(":exchanging", s(AttemptStatus::Exchanging.as_str()))
            .expression_attribute_values(":invite", s(invite_id))
            .expression_attribute_values(":now", n(now.0))
            .build()
            .map_err(build_err)?;
        // One request token per attempt: a retry of this very commit is idempotent, while a
        // commit for another attempt of the same invite is a different transaction that fails
        // on its conditions.
        let token = state.as_str()[..36].to_owned();
        self.transact(
            vec![
                self.put(item, "attribute_not_exists(pk)")?,
                TransactWriteItem::builder().update(invite_update).build(),
                TransactWriteItem::builder().update(attempt_update).build(),
            ],
            Some(token),
            "authorization commit",
        )
        .await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.get(connection_key(id.as_str()))
            .await?
            .map(|i| Self::connection_from(&i))
            .transpose()
    }

    async fn connection_for_invite(
        &self,
        invite: &InviteId,
    ) -> Result<Option<Connection>, StoreError> {
        let Some(item) = self.get(invite_key(invite.as_str())).await? else {
            return Ok(None);
        };
        match get_s(&item, "connection_id").and_then(ConnectionId::parse) {
            Some(id) => self.connection(&id).await,
            None => Ok(None),
        }
    }

    async fn update_tokens(
        &self,
        id: &ConnectionId,
        tokens: &SealedBlob,
        token_expires_at: Option<Timestamp>,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let tokens =
            serde_json::to_string(tokens).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let expected =
            i64::try_from(expected_version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id.as_str())))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#tokens", "tokens")
            .expression_attribute_names("#token_expires_at", "token_expires_at")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":tokens", s(tokens));
        req = match token_expires_at {
            Some(t) => req
                .update_expression(
                    "SET #tokens = :tokens, #token_expires_at = :exp, #version = :next",
                )
                .expression_attribute_values(":exp", n(t.0)),
            None => req.update_expression(
                "SET #tokens = :tokens, #version = :next REMOVE #token_expires_at",
            ),
        };
        match req.send().await {
            Ok(_) => Ok(expected_version + 1),
            Err(e) if condition_failed(&e) => Err(StoreError::Conflict("connection version")),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id.as_str())))
            .update_expression("SET #status = :status")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .send()
            .await;
        settle(result, StoreError::Missing("connection"))
    }

    async fn invites_of(
        &self,
        warehouse: &WarehouseId,
        status: Option<InviteStatus>,
        limit: usize,
    ) -> Result<Vec<Invite>, StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .scan_index_forward(false)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .expression_attribute_values(":wh", s(format!("WH#{warehouse}")));
        req = match status {
            Some(st) => req
                .key_condition_expression("gsi1pk = :wh AND begins_with(gsi1sk, :status)")
                .expression_attribute_values(":status", s(format!("{}#", st.as_str()))),
            None => req.key_condition_expression("gsi1pk = :wh"),
        };
        let out = req.send().await.map_err(unavailable)?;
        let mut invites: Vec<Invite> = out
            .items()
            .iter()
            .map(Self::invite_from)
            .collect::<Result<_, _>>()?;
        // Without a status the index orders by status first; order by creation as promised.
        invites.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(invites)
    }

    async fn claim_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<SendClaim, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression(
                "SET #status = :sending, #lease_until = :lease, #updated_at = :now, #entity = :entity",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#status <> :sent AND (#status <> :sending OR #lease_until <= :now))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":lease", n(now.0 + lease_secs))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":entity", s("send"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(SendClaim::Claimed),
            Err(e) if condition_failed(&e) => {
                let item = self.get(send_key(invite, kind)).await?.unwrap_or_default();
                Ok(if get_s(&item, "status") == Some("sent") {
                    SendClaim::AlreadySent(
                        get_s(&item, "message_id").unwrap_or_default().to_owned(),
                    )
                } else {
                    SendClaim::Busy
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn finish_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression("SET #status = :sent, #message_id = :mid, #updated_at = :now")
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#message_id", "message_id")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":mid", s(message_id))
            .expression_attribute_values(":now", n(now.0))
            .send()
            .await;
        settle(result, StoreError::Conflict("send not claimed"))
    }

    async fn release_send(&self, invite: &InviteId, kind: EmailKind) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression("SET #status = :pending, #lease_until = :zero")
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn take_lease(
        &self,
        key_name: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        let until = now.0 + lease_secs;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LEASE#{key_name}"), "LEASE")))
            .update_expression(
                "SET #owner = :owner, #until = :until, #ttl = :ttl, #entity = :entity",
            )
            .condition_expression("attribute_not_exists(pk) OR #until <= :now OR #owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":ttl", n(until + 3600))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":entity", s("lease"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn release_lease(&self, key_name: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LEASE#{key_name}"), "LEASE")))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :authorized")
            .expression_attribute_values(":authorized", s(GSI2_AUTHORIZED))
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        // A global index is eventually consistent: an invite confirmed a moment ago may still
        // be listed (as authorized); the confirmation reads the invite again before it acts.
        out.items().iter().map(Self::invite_from).collect()
    }

    async fn count_hit_within(
        &self,
        key_name: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let window = now.0 - now.0.rem_euclid(window_secs.max(1));
        let ttl = now.0.saturating_add(window_secs.clamp(0, 60 * 24 * 3600)) + 3600;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("HIT#{key_name}"), &format!("W#{window}"))))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(ttl))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}
