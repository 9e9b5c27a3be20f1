//! The tenants part of the store port behind the fault plan.

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{ApiKeyRecord, Branding, Tenant, Timestamp, TokenHash, WarehouseId};
use crate::store::{StoreError, Tenants};

#[async_trait]
impl Tenants for FaultyStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.run("create_tenant", self.inner.create_tenant(tenant))
            .await
    }

    async fn tenant(&self, id: &WarehouseId) -> Result<Option<Tenant>, StoreError> {
        self.run("tenant", self.inner.tenant(id)).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.run("tenants", self.inner.tenants()).await
    }

    async fn set_tenant_disabled(
        &self,
        id: &WarehouseId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.run(
            "set_tenant_disabled",
            self.inner.set_tenant_disabled(id, disabled),
        )
        .await
    }

    async fn set_branding(&self, id: &WarehouseId, branding: &Branding) -> Result<(), StoreError> {
        self.run("set_branding", self.inner.set_branding(id, branding))
            .await
    }

    async fn put_logo(&self, id: &WarehouseId, png: &[u8]) -> Result<u32, StoreError> {
        self.run("put_logo", self.inner.put_logo(id, png)).await
    }

    async fn logo(&self, id: &WarehouseId) -> Result<Option<Vec<u8>>, StoreError> {
        self.run("logo", self.inner.logo(id)).await
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.run("insert_api_key", self.inner.insert_api_key(key))
            .await
    }

    async fn api_key(&self, hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.run("api_key", self.inner.api_key(hash)).await
    }

    async fn api_keys_of(&self, warehouse: &WarehouseId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.run("api_keys_of", self.inner.api_keys_of(warehouse))
            .await
    }

    async fn revoke_api_key(
        &self,
        warehouse: &WarehouseId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "revoke_api_key",
            self.inner.revoke_api_key(warehouse, key_id, at),
        )
        .await
    }

    async fn touch_api_key(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.run("touch_api_key", self.inner.touch_api_key(hash, at))
            .await
    }
}
