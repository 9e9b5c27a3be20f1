//! The tenants part of the store port: warehouses created through the admin API, their
//! branding and logo, and the records of their API keys (by hash only).

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{ApiKeyRecord, Branding, Tenant, Timestamp, TokenHash, WarehouseId};

/// Warehouses kept as data, and their API keys.
#[async_trait]
pub trait Tenants: Send + Sync {
    /// Stores a new warehouse, only if no warehouse has its id ([`StoreError::Conflict`]).
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;

    /// The warehouse with this id.
    async fn tenant(&self, id: &WarehouseId) -> Result<Option<Tenant>, StoreError>;

    /// Every stored warehouse, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Marks a warehouse disabled (or enabled again); [`StoreError::Missing`] if there is none.
    async fn set_tenant_disabled(&self, id: &WarehouseId, disabled: bool)
        -> Result<(), StoreError>;

    /// Replaces a warehouse's branding (its `logo_version` aside, which only
    /// [`Tenants::put_logo`] changes); [`StoreError::Missing`] if there is none.
    async fn set_branding(&self, id: &WarehouseId, branding: &Branding) -> Result<(), StoreError>;

    /// Stores a warehouse's logo (a PNG we encoded) and bumps its `logo_version`, both at once;
    /// answers the new version. [`StoreError::Missing`] if there is no such warehouse.
    async fn put_logo(&self, id: &WarehouseId, png: &[u8]) -> Result<u32, StoreError>;

    /// A warehouse's logo (PNG), if it has one.
    async fn logo(&self, id: &WarehouseId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a key's record, only if no key has its hash ([`StoreError::Conflict`]) and its
    /// warehouse exists ([`StoreError::Missing`]).
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    /// The record of the key with this hash (revoked ones too).
    async fn api_key(&self, hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Every key record of a warehouse, oldest first.
    async fn api_keys_of(&self, warehouse: &WarehouseId) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes a warehouse's key by id at `at`: a revoked key stays revoked (a second revoke
    /// keeps the first time). [`StoreError::Missing`] if the warehouse has no such key.
    async fn revoke_api_key(
        &self,
        warehouse: &WarehouseId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records that the key was used at `at`, unless its last use is recorded as later than
    /// `at - LAST_USED_GRANULARITY_SECS` already (then nothing is written).
    async fn touch_api_key(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError>;
}
