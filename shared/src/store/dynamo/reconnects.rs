//! The callback's commit for a re-authorization invite: the renewed connection, the invite and
//! the attempt in one transaction.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::item::{connection_key, n, s};
use super::{build_err, DynamoStore};
use crate::domain::{Connection, ConnectionStatus, InviteId, Timestamp, TokenHash};
use crate::store::StoreError;

impl DynamoStore {
    /// The renewed connection's half: new tokens, expiry and `refreshed_at`, `active` and the
    /// next version, only while the item exists at `expected_version` (a disconnect deletes
    /// it; a refresh moves its version).
    fn renew_connection(
        &self,
        renewed: &Connection,
        expected_version: u64,
    ) -> Result<Update, StoreError> {
        let expected =
            i64::try_from(expected_version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let tokens = serde_json::to_string(&renewed.tokens)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut set = vec!["#tokens = :tokens", "#version = :next", "#status = :active"];
        let mut remove = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(connection_key(renewed.id.as_str())))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#tokens", "tokens")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token_expires_at", "token_expires_at")
            .expression_attribute_names("#refreshed_at", "refreshed_at")
            .expression_attribute_values(":tokens", s(tokens))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":active", s(ConnectionStatus::Active.as_str()));
        match renewed.token_expires_at {
            Some(t) => {
                set.push("#token_expires_at = :exp");
                update = update.expression_attribute_values(":exp", n(t.0));
            }
            None => remove.push("#token_expires_at"),
        }
        match renewed.refreshed_at {
            Some(t) => {
                set.push("#refreshed_at = :refreshed");
                update = update.expression_attribute_values(":refreshed", n(t.0));
            }
            None => remove.push("#refreshed_at"),
        }
        for (name, value) in [
            ("granted_at", renewed.granted_at),
            ("care_noticed", renewed.care_noticed),
        ] {
            update = update.expression_attribute_names(format!("#{name}"), name);
            match value {
                Some(t) => {
                    set.push(if name == "granted_at" {
                        "#granted_at = :granted_at"
                    } else {
                        "#care_noticed = :care_noticed"
                    });
                    update = update.expression_attribute_values(format!(":{name}"), n(t.0));
                }
                None => remove.push(if name == "granted_at" {
                    "#granted_at"
                } else {
                    "#care_noticed"
                }),
            }
        }
        let care = super::care::care_clauses(renewed.care_at, renewed.id.as_str());
        set.extend(care.set);
        remove.extend(care.remove);
        for (k, v) in care.names {
            update = update.expression_attribute_names(k, v);
        }
        for (k, v) in care.values {
            update = update.expression_attribute_values(k, v);
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update
            .update_expression(expression)
            .build()
            .map_err(build_err)
    }

    /// [`crate::store::ConnectionStore::commit_reconnect`] on DynamoDB: one transaction of the
    /// renewed connection, the invite (which records the connection it now leads to) and the
    /// attempt, each under its condition.
    pub(super) async fn commit_renewal(
        &self,
        invite: &InviteId,
        renewed: &Connection,
        expected_version: u64,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let created = match self.created_at(invite).await {
            Ok(c) => c,
            Err(StoreError::Missing(_)) => return Err(StoreError::Conflict("invite missing")),
            Err(e) => return Err(e),
        };
        let items = vec![
            TransactWriteItem::builder()
                .update(self.renew_connection(renewed, expected_version)?)
                .build(),
            TransactWriteItem::builder()
                .update(self.authorize_invite(invite.as_str(), &renewed.id, created, now)?)
                .build(),
            TransactWriteItem::builder()
                .update(self.complete_attempt(state, invite, now)?)
                .build(),
        ];
        // One request token per attempt, as for a first authorization.
        let token = state.as_str()[..36].to_owned();
        self.transact(items, Some(token), "reconnect commit").await
    }
}
