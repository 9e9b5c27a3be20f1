//! Who is calling: a bearer API key names a warehouse from the configuration file or, for a
//! minted `clk_live_` key, from the store (its record not revoked, its warehouse not disabled).

use crate::domain::api_key::{shape, KeyShape};
use crate::domain::{TokenHash, Warehouse, WarehouseId};
use crate::store::StoreError;

use super::Services;

/// Why a call authenticates nobody.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No bearer key, or one nobody owns (unknown, revoked, or its warehouse disabled).
    #[error("no valid API key")]
    Unknown,
    /// A `clk_live_` key whose checksum does not match: mistyped or cut short, never issued.
    #[error("the API key's checksum does not match")]
    BadChecksum,
    /// The store could not say.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// The warehouse owning `bearer`. Keys from the configuration file are checked first (in
    /// memory); a minted key is checked for its checksum before the store is asked, and its
    /// last use is recorded (at most every few minutes; a failed record does not fail the call).
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Warehouse, AuthError> {
        let key = bearer.ok_or(AuthError::Unknown)?;
        if let Some(w) = self.warehouses.authenticate(key) {
            return Ok(w.clone());
        }
        match shape(key) {
            KeyShape::Other => return Err(AuthError::Unknown),
            KeyShape::BadChecksum => return Err(AuthError::BadChecksum),
            KeyShape::Minted => {}
        }
        let hash = TokenHash::of(key);
        let record = self.store.api_key(&hash).await?;
        let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
            return Err(AuthError::Unknown);
        };
        let tenant = self.store.tenant(&record.warehouse).await?;
        let Some(tenant) = tenant.filter(|t| !t.disabled) else {
            return Err(AuthError::Unknown);
        };
        if let Err(e) = self.store.touch_api_key(&hash, self.clock.now()).await {
            tracing::warn!(error = %e, key_id = %record.id, "recording a key's last use failed");
        }
        Ok(tenant.to_warehouse(&self.config.public_base_url))
    }
}

impl Services {
    /// A warehouse by id: from the configuration file, else from the store (a disabled one too,
    /// since what it is told about its own records is still owed).
    pub async fn warehouse_by_id(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        if let Some(w) = self.warehouses.all().iter().find(|w| &w.id == id) {
            return Ok(Some(w.clone()));
        }
        Ok(self
            .store
            .tenant(id)
            .await?
            .map(|t| t.to_warehouse(&self.config.public_base_url)))
    }
}

#[cfg(test)]
mod tests;
