//! Grant attempts; beginning one also moves its invite into `granting`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use serde_json::Value;

use super::item::{attempt_key, get_n, get_s, gsi1sk, invite_key, n, need_s, s, status_in, Item};
use super::{build_err, settle, DynamoStore};
use crate::domain::{AttemptStatus, GrantAttempt, InviteId, InviteStatus, Timestamp, TokenHash};
use crate::store::record::{body_without, with_fields, ATTEMPT_MUTABLE};
use crate::store::{AttemptStore, StoreError};

impl DynamoStore {
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
}

/// The claim of an attempt: `open → exchanging` with its deadline, only while it is open and
/// unexpired (the one rule both claims write, with or without their invite's check).
const CLAIM_UPDATE: &str = "SET #status = :exchanging, #claim_until = :until";
/// See [`CLAIM_UPDATE`].
const CLAIM_CONDITION: &str = "#status = :open AND #expires_at > :now";

/// The names and values [`CLAIM_UPDATE`] and [`CLAIM_CONDITION`] use.
fn claim_attributes(
    now: Timestamp,
    claim_until: Timestamp,
) -> (HashMap<String, String>, HashMap<String, AttributeValue>) {
    let names = [
        ("#status", "status"),
        ("#claim_until", "claim_until"),
        ("#expires_at", "expires_at"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let values = [
        (":exchanging", s(AttemptStatus::Exchanging.as_str())),
        (":open", s(AttemptStatus::Open.as_str())),
        (":until", n(claim_until.0)),
        (":now", n(now.0)),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    (names.into(), values.into())
}

#[async_trait]
impl AttemptStore for DynamoStore {
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
            (":one".to_owned(), n(1)),
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
                 REMOVE #status_reason ADD version :one",
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
        let (names, values) = claim_attributes(now, claim_until);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(attempt_key(state)))
            .update_expression(CLAIM_UPDATE)
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        settle(result, StoreError::Conflict("attempt not open"))
    }

    async fn claim_granting_attempt(
        &self,
        state: &TokenHash,
        invite: &InviteId,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        let (names, values) = claim_attributes(now, claim_until);
        let claim = Update::builder()
            .table_name(&self.table)
            .set_key(Some(attempt_key(state)))
            .update_expression(CLAIM_UPDATE)
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        let granting = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(invite_key(invite.as_str())))
            .condition_expression("#status = :granting AND #expires_at > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_values(":granting", s(InviteStatus::Granting.as_str()))
            .expression_attribute_values(":now", n(now.0))
            .build()
            .map_err(build_err)?;
        self.transact(
            vec![
                TransactWriteItem::builder().update(claim).build(),
                TransactWriteItem::builder()
                    .condition_check(granting)
                    .build(),
            ],
            None,
            "attempt not open, or its invite not granting",
        )
        .await
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
}
