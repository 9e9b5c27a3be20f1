//! Warehouses kept as data (`tenants`, with their logos in `logos`) and API key records
//! (`api_keys`, keyed by the key's hash).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::pool::Cached;
use super::{corrupt, is_constraint, unavailable, SqliteStore};
use crate::domain::tenant::LAST_USED_GRANULARITY_SECS;
use crate::domain::{ApiKeyRecord, Branding, Tenant, Timestamp, TokenHash, WarehouseId};
use crate::store::{StoreError, Tenants};

/// The tables of this part, made when the store opens.
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    notify_email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    accent TEXT,
    support_email TEXT,
    privacy_url TEXT,
    logo_version INTEGER
);
CREATE TABLE IF NOT EXISTS logos (
    warehouse_id TEXT PRIMARY KEY REFERENCES tenants (id),
    png BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    warehouse_id TEXT NOT NULL REFERENCES tenants (id),
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_warehouse ON api_keys (warehouse_id, created_at);
"#;

const TENANT_COLUMNS: &str =
    "id, display_name, notify_email, created_at, disabled, accent, support_email, privacy_url, logo_version";
const KEY_COLUMNS: &str =
    "hash, id, warehouse_id, prefix, name, created_at, last_used_at, revoked_at";

fn tenant_of(r: &Row<'_>) -> rusqlite::Result<TenantRow> {
    Ok((
        vec![r.get(0)?, r.get(1)?, r.get(2)?],
        r.get(3)?,
        r.get(4)?,
        r.get(8)?,
        [r.get(5)?, r.get(6)?, r.get(7)?],
    ))
}

type TenantRow = (Vec<String>, i64, bool, Option<u32>, [Option<String>; 3]);

fn tenant(row: TenantRow) -> Result<Tenant, StoreError> {
    let (text, created_at, disabled, logo_version, [accent, support_email, privacy_url]) = row;
    Ok(Tenant {
        id: WarehouseId::parse(&text[0]).ok_or_else(|| corrupt("warehouse id"))?,
        display_name: text[1].clone(),
        notify_email: text[2].clone(),
        created_at: Timestamp(created_at),
        disabled,
        branding: Branding {
            accent,
            support_email,
            privacy_url,
            logo_version,
        },
    })
}

type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn key_of(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn key(row: KeyRow) -> Result<ApiKeyRecord, StoreError> {
    let (hash, id, warehouse, prefix, name, created_at, last_used_at, revoked_at) = row;
    Ok(ApiKeyRecord {
        id,
        warehouse: WarehouseId::parse(&warehouse).ok_or_else(|| corrupt("warehouse id"))?,
        hash: TokenHash::from_stored(&hash).ok_or_else(|| corrupt("key hash"))?,
        prefix,
        name,
        created_at: Timestamp(created_at),
        last_used_at: last_used_at.map(Timestamp),
        revoked_at: revoked_at.map(Timestamp),
    })
}

/// `Missing` when an update touched no row.
fn one_row(n: usize, what: &'static str) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::Missing(what))
    } else {
        Ok(())
    }
}

#[async_trait]
impl Tenants for SqliteStore {
    async fn create_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        self.with(|db| {
            let b = &t.branding;
            let result = db.exec(
                &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    t.id.as_str(),
                    t.display_name,
                    t.notify_email,
                    t.created_at.0,
                    t.disabled,
                    b.accent,
                    b.support_email,
                    b.privacy_url,
                    b.logo_version
                ],
            );
            match result {
                Ok(_) => Ok(()),
                Err(e) if is_constraint(&e) => Err(StoreError::Conflict("warehouse exists")),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    async fn tenant(&self, id: &WarehouseId) -> Result<Option<Tenant>, StoreError> {
        let id = id.as_str().to_owned();
        let row = self
            .read(move |db| {
                db.row(
                    &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"),
                    [&id],
                    tenant_of,
                )
                .optional()
                .map_err(unavailable)
            })
            .await?;
        row.map(tenant).transpose()
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(&format!(
                    "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id"
                ))
                .map_err(unavailable)?;
            let rows = stmt.query_map([], tenant_of).map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        rows.into_iter().map(tenant).collect()
    }

    async fn set_tenant_disabled(
        &self,
        id: &WarehouseId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE tenants SET disabled = ?2 WHERE id = ?1",
                    params![id.as_str(), disabled],
                )
                .map_err(unavailable)?;
            one_row(n, "warehouse")
        })
    }

    async fn set_branding(&self, id: &WarehouseId, b: &Branding) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE tenants SET accent = ?2, support_email = ?3, privacy_url = ?4 WHERE id = ?1",
                    params![id.as_str(), b.accent, b.support_email, b.privacy_url],
                )
                .map_err(unavailable)?;
            one_row(n, "warehouse")
        })
    }

    async fn put_logo(&self, id: &WarehouseId, png: &[u8]) -> Result<u32, StoreError> {
        self.with(|db| {
            let tx = db.transaction().map_err(unavailable)?;
            let version: Option<u32> = tx
                .row(
                    "UPDATE tenants SET logo_version = COALESCE(logo_version, 0) + 1 WHERE id = ?1
                     RETURNING logo_version",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            let version = version.ok_or(StoreError::Missing("warehouse"))?;
            tx.exec(
                "INSERT INTO logos (warehouse_id, png) VALUES (?1, ?2)
                 ON CONFLICT (warehouse_id) DO UPDATE SET png = excluded.png",
                params![id.as_str(), png],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(version)
        })
    }

    async fn logo(&self, id: &WarehouseId) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|db| {
            db.row(
                "SELECT png FROM logos WHERE warehouse_id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(unavailable)
        })
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with(|db| {
            let tx = db.transaction().map_err(unavailable)?;
            let exists = tx
                .prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")
                .and_then(|mut q| q.exists([k.warehouse.as_str()]))
                .map_err(unavailable)?;
            if !exists {
                return Err(StoreError::Missing("warehouse"));
            }
            let result = tx.exec(
                &format!(
                    "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    k.hash.as_str(),
                    k.id,
                    k.warehouse.as_str(),
                    k.prefix,
                    k.name,
                    k.created_at.0,
                    k.last_used_at.map(|t| t.0),
                    k.revoked_at.map(|t| t.0)
                ],
            );
            match result {
                Ok(_) => tx.commit().map_err(unavailable),
                Err(e) if is_constraint(&e) => Err(StoreError::Conflict("api key exists")),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    async fn api_key(&self, hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let hash = hash.as_str().to_owned();
        let row = self
            .read(move |db| {
                db.row(
                    &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = ?1"),
                    [&hash],
                    key_of,
                )
                .optional()
                .map_err(unavailable)
            })
            .await?;
        row.map(key).transpose()
    }

    async fn api_keys_of(&self, warehouse: &WarehouseId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE warehouse_id = ?1 ORDER BY created_at, id"
                ))
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([warehouse.as_str()], key_of)
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        rows.into_iter().map(key).collect()
    }

    async fn revoke_api_key(
        &self,
        warehouse: &WarehouseId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3)
                     WHERE warehouse_id = ?1 AND id = ?2",
                    params![warehouse.as_str(), key_id, at.0],
                )
                .map_err(unavailable)?;
            one_row(n, "api key")
        })
    }

    async fn touch_api_key(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.with(|db| {
            db.exec(
                "UPDATE api_keys SET last_used_at = ?2
                 WHERE hash = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                params![hash.as_str(), at.0, at.0 - LAST_USED_GRANULARITY_SECS],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }
}
