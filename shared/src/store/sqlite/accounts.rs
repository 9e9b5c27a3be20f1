//! Connections and disconnection records by the store account they reach.

use async_trait::async_trait;

use super::{unavailable, SqliteStore};
use crate::domain::{CartId, ConnectionId};
use crate::store::{AccountConnections, StoreError};

/// The indexes the lookup reads (expression indexes over the records' bodies).
pub(super) const SCHEMA: &str = r#"
CREATE INDEX IF NOT EXISTS connections_by_account ON connections (
    json_extract(body, '$.cart'), json_extract(body, '$.account')
);
CREATE INDEX IF NOT EXISTS disconnections_by_account ON disconnections (
    json_extract(body, '$.cart'), json_extract(body, '$.account')
);
"#;

#[async_trait]
impl AccountConnections for SqliteStore {
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let ids: Vec<String> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(
                    "SELECT id FROM connections
                       WHERE json_extract(body, '$.cart') = ?1 AND json_extract(body, '$.account') = ?2
                     UNION
                     SELECT id FROM disconnections
                       WHERE json_extract(body, '$.cart') = ?1 AND json_extract(body, '$.account') = ?2",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([cart.as_str(), account], |r| r.get(0))
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        Ok(ids
            .iter()
            .filter_map(|id| ConnectionId::parse(id))
            .collect())
    }
}
