//! Connections, and the callback's commit that makes one.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde_json::Value;

use super::events::event_item;
use super::item::{
    attempt_key, connection_key, get_n, get_s, gsi1sk, gsi2sk, invite_key, list_sk, n, need_n,
    need_s, s, Item, GSI2_AUTHORIZED,
};
use super::listing::{List, Reader};
use super::{build_err, condition_failed, settle, unavailable, DynamoStore};
use crate::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, InviteId, InviteStatus, Timestamp,
    TokenHash, WarehouseId,
};
use crate::store::record::{body_without, with_fields, CONNECTION_MUTABLE};
use crate::store::{
    AuthorizationCommit, ConnectionFilter, ConnectionStore, Page, PageRequest, StoreError,
};
use crate::vault::SealedBlob;

impl DynamoStore {
    pub(super) fn connection_from(item: &Item) -> Result<Connection, StoreError> {
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
                (
                    "refreshed_at",
                    get_n(item, "refreshed_at").map_or(Value::Null, Value::from),
                ),
                (
                    "granted_at",
                    get_n(item, "granted_at").map_or(Value::Null, Value::from),
                ),
                (
                    "care_at",
                    get_n(item, "care_at").map_or(Value::Null, Value::from),
                ),
                (
                    "care_noticed",
                    get_n(item, "care_noticed").map_or(Value::Null, Value::from),
                ),
                (
                    "subscribed_at",
                    get_n(item, "subscribed_at").map_or(Value::Null, Value::from),
                ),
            ],
        )
    }

    /// The connection's item: the fields that never change in `body`, each other one its own
    /// attribute.
    fn connection_item(connection: &Connection) -> Result<Item, StoreError> {
        let mut item = connection_key(connection.id.as_str());
        item.extend([
            ("entity".to_owned(), s("connection")),
            ("invite_id".to_owned(), s(connection.invite_id.as_str())),
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
                "gsi3pk".to_owned(),
                s(List::Connections.partition(&connection.warehouse_id)),
            ),
            (
                "gsi3sk".to_owned(),
                s(list_sk(connection.created_at, connection.id.as_str())),
            ),
            (
                "body".to_owned(),
                s(body_without(connection, &CONNECTION_MUTABLE)?),
            ),
        ]);
        if let Some(t) = connection.token_expires_at {
            item.insert("token_expires_at".into(), n(t.0));
        }
        for (name, t) in [
            ("granted_at", connection.granted_at),
            ("care_noticed", connection.care_noticed),
            ("subscribed_at", connection.subscribed_at),
        ] {
            if let Some(t) = t {
                item.insert(name.into(), n(t.0));
            }
        }
        item.extend(super::care::care_attributes(
            connection.care_at,
            connection.id.as_str(),
        ));
        item.extend(super::accounts::account_attributes(
            connection.cart.as_str(),
            connection.account.as_deref(),
            connection.id.as_str(),
        ));
        Ok(item)
    }

    /// The commit's invite half: from `granting`, unexpired and without a connection, to
    /// `authorized` with this connection, entering the owed-confirmations index.
    pub(super) fn authorize_invite(
        &self,
        invite_id: &str,
        connection: &ConnectionId,
        created: Timestamp,
        now: Timestamp,
    ) -> Result<Update, StoreError> {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(invite_key(invite_id)))
            .update_expression(
                "SET #status = :authorized, #updated_at = :now, #connection_id = :con, #gsi1sk = :gsk, \
                 #gsi2pk = :g2pk, #gsi2sk = :g2sk REMOVE #status_reason ADD version :one",
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
                (":one".to_owned(), n(1)),
                (":con".to_owned(), s(connection.as_str())),
                (
                    ":gsk".to_owned(),
                    s(gsi1sk(InviteStatus::Authorized, created, invite_id)),
                ),
            ])))
            .build()
            .map_err(build_err)
    }

    /// The commit's attempt half: from `exchanging`, under a claim that has not lapsed at
    /// `now`, to `completed`.
    pub(super) fn complete_attempt(
        &self,
        state: &TokenHash,
        invite: &InviteId,
        now: Timestamp,
    ) -> Result<Update, StoreError> {
        Update::builder()
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
            .expression_attribute_values(":invite", s(invite.as_str()))
            .expression_attribute_values(":now", n(now.0))
            .build()
            .map_err(build_err)
    }
}

#[async_trait]
impl ConnectionStore for DynamoStore {
    async fn commit_authorization(
        &self,
        commit: &AuthorizationCommit<'_>,
    ) -> Result<(), StoreError> {
        let AuthorizationCommit {
            connection,
            invite_created,
            state,
            now,
            step: (step, event),
        } = *commit;
        let invite_update = self.authorize_invite(
            connection.invite_id.as_str(),
            &connection.id,
            invite_created,
            now,
        )?;
        let attempt_update = self.complete_attempt(state, &connection.invite_id, now)?;
        // One request token per attempt: a retry of this very commit is idempotent, while a
        // commit for another attempt of the same invite is a different transaction that fails
        // on its conditions.
        let token = state.as_str()[..36].to_owned();
        let mut writes = vec![
            self.put(
                Self::connection_item(connection)?,
                "attribute_not_exists(pk)",
            )?,
            TransactWriteItem::builder().update(invite_update).build(),
            TransactWriteItem::builder().update(attempt_update).build(),
            self.put(
                event_item(&connection.invite_id, step, event),
                "attribute_not_exists(pk)",
            )?,
        ];
        for item in super::accounts::shop_items(connection) {
            writes.push(self.put(item, "attribute_not_exists(pk)")?);
        }
        self.transact(writes, Some(token), "authorization commit")
            .await
    }

    async fn commit_reconnect(
        &self,
        invite: &InviteId,
        renewed: &Connection,
        expected_version: u64,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.commit_renewal(invite, renewed, expected_version, state, now)
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
        refreshed_at: Option<Timestamp>,
        care_at: Option<Timestamp>,
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
        let mut set = vec!["#tokens = :tokens", "#version = :next"];
        if let Some(t) = refreshed_at {
            set.push("#refreshed_at = :refreshed");
            req = req
                .expression_attribute_names("#refreshed_at", "refreshed_at")
                .expression_attribute_values(":refreshed", n(t.0));
        }
        if care_at.is_some() {
            let care = super::care::care_clauses(care_at, id.as_str());
            set.extend(care.set);
            for (k, v) in care.names {
                req = req.expression_attribute_names(k, v);
            }
            for (k, v) in care.values {
                req = req.expression_attribute_values(k, v);
            }
        }
        req = match token_expires_at {
            Some(t) => {
                set.push("#token_expires_at = :exp");
                req.update_expression(format!("SET {}", set.join(", ")))
                    .expression_attribute_values(":exp", n(t.0))
            }
            None => {
                req.update_expression(format!("SET {} REMOVE #token_expires_at", set.join(", ")))
            }
        };
        match req.send().await {
            Ok(_) => Ok(expected_version + 1),
            Err(e) if condition_failed(&e) => Err(StoreError::Conflict("connection version")),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_connections(
        &self,
        warehouse: &WarehouseId,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        let reader = Reader {
            parse: Self::connection_from,
            keeps: |c: &Connection| filter.keeps(c),
            position: ConnectionFilter::position,
        };
        self.list_page(List::Connections, warehouse, page, reader)
            .await
    }

    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        read_version: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id.as_str())))
            .update_expression(if status == ConnectionStatus::Active {
                "SET #status = :status"
            } else {
                "SET #status = :status REMOVE #care_at, #gsi1pk, #gsi1sk"
            })
            .set_expression_attribute_names(Some(
                (status != ConnectionStatus::Active)
                    .then_some(["care_at", "gsi1pk", "gsi1sk"])
                    .into_iter()
                    .flatten()
                    .map(|a| (format!("#{a}"), a.to_owned()))
                    .collect::<HashMap<_, _>>(),
            ))
            .condition_expression("attribute_exists(pk) AND #version = :read")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":read", n(read_version as i64))
            .send()
            .await;
        match settle(result, StoreError::Missing("connection")) {
            // The condition failed: gone, or its tokens moved on.
            Err(StoreError::Missing(_)) if self.connection(id).await?.is_some() => Err(
                StoreError::Conflict("the connection's tokens changed since they were read"),
            ),
            other => other,
        }
    }
}
