//! Invites, with their setup links and access codes.

use async_trait::async_trait;
use rusqlite::{params, Connection as Db, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::pool::Cached;
use super::{after_of, is_constraint, placeholders, status_list, unavailable, SqliteStore};
use crate::domain::{Invite, InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId};
use crate::store::listing::page_of;
use crate::store::record::{body_without, with_fields, INVITE_MUTABLE};
use crate::store::{InviteFilter, InviteStore, Page, PageRequest, StoreError};

/// The columns an invite is read from, in the order [`SqliteStore::read_invite`] reads them by
/// position (a lookup by name compares every column's name, on every row).
macro_rules! invite_columns {
    () => {
        "invites.status, invites.status_reason, invites.updated_at, invites.expires_at, \
         invites.body, invites.access_code_hash, invites.access_code_hint, invites.resends, \
         invites.version"
    };
}

impl SqliteStore {
    fn read_invite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Invite, StoreError>> {
        let status: String = row.get(0)?;
        let reason: Option<String> = row.get(1)?;
        let updated_at: i64 = row.get(2)?;
        let expires_at: i64 = row.get(3)?;
        let body: String = row.get(4)?;
        let code: String = row.get(5)?;
        let hint: Option<String> = row.get(6)?;
        let resends: i64 = row.get(7)?;
        let version: i64 = row.get(8)?;
        let mut fields = vec![
            ("version", version.into()),
            ("status", Value::String(status)),
            ("status_reason", reason.map_or(Value::Null, Value::String)),
            ("updated_at", updated_at.into()),
            ("expires_at", expires_at.into()),
            ("access_code_hash", Value::String(code)),
            ("resends", resends.into()),
        ];
        // A row made before the hint was a column has it in its body.
        if let Some(hint) = hint {
            fields.push(("access_code_hint", Value::String(hint)));
        }
        Ok(with_fields(&body, fields))
    }

    fn query_invite(db: &Db, sql: &str, key: &str) -> Result<Option<Invite>, StoreError> {
        db.row(sql, [key], Self::read_invite)
            .optional()
            .map_err(unavailable)?
            .transpose()
    }
}

#[async_trait]
impl InviteStore for SqliteStore {
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError> {
        let body = body_without(invite, &INVITE_MUTABLE)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let inserted = tx.exec(
                "INSERT INTO invites (id, warehouse_id, status, status_reason, access_code_hash,
                    created_at, updated_at, expires_at, body, access_code_hint, resends)
                    VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                params![
                    invite.id.as_str(),
                    invite.warehouse.id.as_str(),
                    invite.status.as_str(),
                    invite.status_reason,
                    invite.access_code_hash.as_str(),
                    invite.created_at.0,
                    invite.updated_at.0,
                    invite.expires_at.0,
                    body,
                    invite.access_code_hint,
                    invite.resends,
                ],
            );
            match inserted {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("invite exists")),
                other => other.map_err(unavailable)?,
            };
            match tx.exec(
                "INSERT INTO links (hash, invite_id, created_at) VALUES (?1, ?2, ?3)",
                params![link.as_str(), invite.id.as_str(), invite.created_at.0],
            ) {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("link exists")),
                other => other.map_err(unavailable)?,
            };
            tx.commit().map_err(unavailable)
        })
    }

    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError> {
        let id = id.as_str().to_owned();
        self.read(move |db| {
            Self::query_invite(
                db,
                concat!("SELECT ", invite_columns!(), " FROM invites WHERE id = ?1"),
                &id,
            )
        })
        .await
    }

    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError> {
        let link = link.as_str().to_owned();
        self.read(move |db| {
            Self::query_invite(
                db,
                concat!(
                    "SELECT ",
                    invite_columns!(),
                    " FROM links JOIN invites ON invites.id = links.invite_id
                     WHERE links.hash = ?1"
                ),
                &link,
            )
        })
        .await
    }

    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError> {
        let code = code.as_str().to_owned();
        self.read(move |db| {
            Self::query_invite(
                db,
                concat!(
                    "SELECT ",
                    invite_columns!(),
                    " FROM invites WHERE access_code_hash = ?1"
                ),
                &code,
            )
        })
        .await
    }

    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "INSERT INTO links (hash, invite_id, created_at)
                     SELECT ?1, id, ?3 FROM invites WHERE id = ?2",
                    params![link.as_str(), invite.as_str(), now.0],
                )
                .map_err(|e| {
                    if is_constraint(&e) {
                        StoreError::Conflict("link exists")
                    } else {
                        unavailable(e)
                    }
                })?;
            if n == 0 {
                return Err(StoreError::Missing("invite"));
            }
            Ok(())
        })
    }

    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let from = status_list(to);
        self.with(|db| {
            let sql = format!(
                "UPDATE invites SET status = ?, status_reason = ?, updated_at = ?, version = version + 1
                 WHERE id = ? AND status IN ({})",
                placeholders(from.len())
            );
            let to_name = to.as_str();
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&to_name, &reason, &now.0];
            let id_str = id.as_str();
            args.push(&id_str);
            for s in &from {
                args.push(s);
            }
            let n = db.exec(&sql, args.as_slice()).map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            let exists: bool = db
                .row("SELECT 1 FROM invites WHERE id = ?1", [id.as_str()], |_| {
                    Ok(true)
                })
                .optional()
                .map_err(unavailable)?
                .unwrap_or(false);
            Err(if exists {
                StoreError::Conflict("invite status")
            } else {
                StoreError::Missing("invite")
            })
        })
    }

    async fn list_invites(
        &self,
        warehouse: &WarehouseId,
        filter: &InviteFilter,
        page: &PageRequest,
    ) -> Result<Page<Invite>, StoreError> {
        // One more than asked, to tell whether a next page exists.
        let want = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let (after_at, after_id) = after_of(page);
        self.with(|db| {
            let mut stmt = db
                .prepare_cached(concat!(
                    "SELECT ",
                    invite_columns!(),
                    " FROM invites WHERE warehouse_id = ?1
                       AND (?2 IS NULL OR status = ?2)
                       AND (?3 IS NULL OR json_extract(body, '$.cart') = ?3)
                       AND (?4 IS NULL OR json_extract(body, '$.merchant_email') = ?4)
                       AND (?5 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id < ?6))
                     ORDER BY created_at DESC, id DESC LIMIT ?7"
                ))
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![
                        warehouse.as_str(),
                        filter.status.map(|s| s.as_str()),
                        filter.cart.as_ref().map(|c| c.as_str()),
                        filter.merchant_email.as_deref(),
                        after_at,
                        after_id,
                        want
                    ],
                    Self::read_invite,
                )
                .map_err(unavailable)?;
            let found = rows
                .map(|r| r.map_err(unavailable)?)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(page_of(found, page.limit, InviteFilter::position))
        })
    }

    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|db| {
            let mut stmt = db
                .prepare_cached(concat!(
                    "SELECT ",
                    invite_columns!(),
                    " FROM invites WHERE status = ?1 ORDER BY updated_at, id LIMIT ?2"
                ))
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![InviteStatus::Authorized.as_str(), limit],
                    Self::read_invite,
                )
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)?).collect()
        })
    }

    async fn replace_secrets(
        &self,
        id: &InviteId,
        expected_resends: u32,
        link: &TokenHash,
        code: &TokenHash,
        code_hint: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let resendable: Vec<&str> = InviteStatus::ALL
            .into_iter()
            .filter(|s| s.takes_resend())
            .map(InviteStatus::as_str)
            .collect();
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let sql = format!(
                "UPDATE invites SET access_code_hash = ?, access_code_hint = ?, version = version + 1,
                    resends = resends + 1, updated_at = ?
                 WHERE id = ? AND resends = ? AND status IN ({})",
                placeholders(resendable.len())
            );
            let (code_str, id_str) = (code.as_str(), id.as_str());
            let mut args: Vec<&dyn rusqlite::ToSql> =
                vec![&code_str, &code_hint, &now.0, &id_str, &expected_resends];
            for s in &resendable {
                args.push(s);
            }
            let changed = match tx.exec(&sql, args.as_slice()) {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("code exists")),
                other => other.map_err(unavailable)?,
            };
            if changed == 0 {
                let exists = tx
                    .row("SELECT 1 FROM invites WHERE id = ?1", [id_str], |_| Ok(()))
                    .optional()
                    .map_err(unavailable)?
                    .is_some();
                return Err(if exists {
                    StoreError::Conflict("invite resends or status")
                } else {
                    StoreError::Missing("invite")
                });
            }
            // Every earlier link goes with the old code: only the new one opens the invite.
            tx.exec("DELETE FROM links WHERE invite_id = ?1", [id_str])
                .map_err(unavailable)?;
            match tx.exec(
                "INSERT INTO links (hash, invite_id, created_at) VALUES (?1, ?2, ?3)",
                params![link.as_str(), id_str, now.0],
            ) {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("link exists")),
                other => other.map_err(unavailable)?,
            };
            tx.commit().map_err(unavailable)?;
            Ok(expected_resends + 1)
        })
    }
}
