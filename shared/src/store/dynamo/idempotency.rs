//! Idempotency records: one item per key, kept by the table's TTL (`ttl`, the end of its
//! keeping) and checked against `expires_at` on every take, since TTL deletes up to days late.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use super::item::{get_n, get_s, key, n, need_n, need_s, s, Item};
use super::{condition_failed, settle, unavailable, DynamoStore};
use crate::domain::Timestamp;
use crate::store::{IdempotencyKeys, IdempotencyRecord, IdempotencyTake, StoreError, StoredAnswer};

fn idem_key(key_name: &str) -> Item {
    key(format!("IDEM#{key_name}"), "IDEM")
}

/// What a record holds for a caller that did not take it.
fn held(item: &Item) -> Result<IdempotencyTake, StoreError> {
    let record = if get_s(item, "state") == Some("done") {
        let status = need_n(item, "answer_status")?;
        IdempotencyRecord::Done(StoredAnswer {
            status: u16::try_from(status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            content_type: get_s(item, "answer_type").unwrap_or_default().to_owned(),
            body: serde_json::from_str(need_s(item, "answer_body")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    } else {
        IdempotencyRecord::InProgress {
            lease_until: Timestamp(get_n(item, "lease_until").unwrap_or_default()),
        }
    };
    Ok(IdempotencyTake::Held {
        request_hash: need_s(item, "request_hash")?.to_owned(),
        record,
    })
}

impl DynamoStore {
    /// A fresh record, where there is none or it is past its keeping.
    async fn take_fresh(
        &self,
        key_name: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
        keep_secs: i64,
    ) -> Result<bool, StoreError> {
        let mut item = idem_key(key_name);
        item.extend([
            ("entity".to_owned(), s("idempotency")),
            ("request_hash".to_owned(), s(request_hash)),
            ("state".to_owned(), s("in_progress")),
            ("owner".to_owned(), s(owner)),
            ("lease_until".to_owned(), n(now.0 + lease_secs)),
            ("first_owner".to_owned(), s(owner)),
            ("expires_at".to_owned(), n(now.0 + keep_secs)),
            ("ttl".to_owned(), n(now.0 + keep_secs)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #expires_at <= :now")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_values(":now", n(now.0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// A takeover of a record in progress for the same request whose lease lapsed: answers
    /// its first owner.
    async fn take_over(
        &self,
        key_name: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<Option<String>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(idem_key(key_name)))
            .update_expression("SET #owner = :owner, #lease_until = :lease")
            .condition_expression(
                "#state = :in_progress AND #lease_until <= :now AND #request_hash = :hash \
                 AND #expires_at > :now",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#request_hash", "request_hash")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":lease", n(now.0 + lease_secs))
            .expression_attribute_values(":in_progress", s("in_progress"))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":hash", s(request_hash))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                Ok(Some(need_s(&item, "first_owner")?.to_owned()))
            }
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl IdempotencyKeys for DynamoStore {
    async fn take_idempotency_key(
        &self,
        key_name: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
        keep_secs: i64,
    ) -> Result<IdempotencyTake, StoreError> {
        // Each write is conditional; a record that changes between them (released, finished,
        // expired) is looked at again, a few times at most.
        for _ in 0..3 {
            if self
                .take_fresh(key_name, request_hash, owner, now, lease_secs, keep_secs)
                .await?
            {
                return Ok(IdempotencyTake::Taken {
                    first_owner: owner.to_owned(),
                    taken_over: false,
                });
            }
            if let Some(first_owner) = self
                .take_over(key_name, request_hash, owner, now, lease_secs)
                .await?
            {
                return Ok(IdempotencyTake::Taken {
                    first_owner,
                    taken_over: true,
                });
            }
            match self.get(idem_key(key_name)).await? {
                Some(item) if get_n(&item, "expires_at").is_some_and(|e| e > now.0) => {
                    return held(&item)
                }
                _ => continue,
            }
        }
        Err(StoreError::Conflict("idempotency record keeps changing"))
    }

    async fn finish_idempotency_key(
        &self,
        key_name: &str,
        owner: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(&answer.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(idem_key(key_name)))
            .update_expression(
                "SET #state = :done, #answer_status = :status, #answer_type = :type, \
                 #answer_body = :body",
            )
            .condition_expression("#owner = :owner AND #state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#answer_status", "answer_status")
            .expression_attribute_names("#answer_type", "answer_type")
            .expression_attribute_names("#answer_body", "answer_body")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":status", n(i64::from(answer.status)))
            .expression_attribute_values(":type", s(&answer.content_type))
            .expression_attribute_values(":body", s(body))
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":in_progress", s("in_progress"))
            .send()
            .await;
        settle(result, StoreError::Conflict("idempotency key not held"))
    }

    async fn release_idempotency_key(&self, key_name: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(idem_key(key_name)))
            .condition_expression("#owner = :owner AND #state = :in_progress")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":in_progress", s("in_progress"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
