//! The operator's flows (the admin API): create, list and disable warehouses kept as data;
//! mint, list and revoke their API keys; set their branding and logo.

use serde::Deserialize;

use crate::config::normalize_email;
use crate::domain::{
    Accent, AccentError, ApiKeyRecord, Branding, InviteStatus, MintedKey, Secret, Tenant,
    WarehouseId,
};
use crate::store::{InviteFilter, PageRequest, StoreError};

use super::Services;

pub mod logo;

/// Why an admin call was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A field is wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// White text on the accent colour falls short of WCAG AA (the ratio it reaches).
    #[error("accent contrast {0:.2}:1")]
    LowContrast(f64),
    /// The logo was refused (why, in words safe to show).
    #[error("logo refused: {0}")]
    Logo(logo::LogoError),
    /// A warehouse with this id exists (stored or configured).
    #[error("the warehouse exists")]
    Exists,
    /// No such warehouse (or key of it).
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Missing(_) => AdminError::NotFound,
            other => AdminError::Store(other),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A warehouse to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Its id (`^[a-z0-9-]{1,64}$`).
    pub id: String,
    /// The name merchants see.
    pub display_name: String,
    /// Where its confirmations go.
    pub notify_email: String,
}

/// A warehouse's branding as an operator sets it: every field replaces the stored one (absent
/// clears it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingInput {
    /// `#rrggbb`, refused unless white text on it meets WCAG AA.
    pub accent: Option<String>,
    /// The Reply-To of emails to its merchants.
    pub support_email: Option<String>,
    /// Its privacy policy, an https URL.
    pub privacy_url: Option<String>,
}

/// A minted key: the record kept, and the key itself, shown once.
pub struct IssuedKey {
    /// What is stored.
    pub record: ApiKeyRecord,
    /// The key; nothing keeps it after the answer.
    pub secret: Secret,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(char::is_control)
    {
        return Err(invalid(
            field,
            format!("must be 1 to {max} characters, without line breaks"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn email(field: &'static str, value: &str) -> Result<String, AdminError> {
    normalize_email(value).ok_or_else(|| invalid(field, "must be one plain email address"))
}

fn privacy_url(value: &str) -> Result<String, AdminError> {
    let url = url::Url::parse(value).map_err(|_| invalid("privacy_url", "must be a URL"))?;
    if url.scheme() != "https" || url.host_str().is_none() || value.len() > 2000 {
        return Err(invalid(
            "privacy_url",
            "must be an https URL of at most 2000 characters",
        ));
    }
    Ok(url.to_string())
}

impl Services {
    /// Creates a warehouse (enabled, unbranded). Its id must not be a configured warehouse's.
    pub async fn create_tenant(&self, new: NewTenant) -> Result<Tenant, AdminError> {
        let id = WarehouseId::parse(&new.id)
            .ok_or_else(|| invalid("id", "must match ^[a-z0-9-]{1,64}$"))?;
        if self.warehouses.all().iter().any(|w| w.id == id) {
            return Err(AdminError::Exists);
        }
        let tenant = Tenant {
            id,
            display_name: text("display_name", &new.display_name, 100)?,
            notify_email: email("notify_email", &new.notify_email)?,
            created_at: self.clock.now(),
            disabled: false,
            branding: Branding::default(),
        };
        match self.store.create_tenant(&tenant).await {
            Err(StoreError::Conflict(_)) => Err(AdminError::Exists),
            other => other.map_err(AdminError::from),
        }?;
        tracing::info!(warehouse_id = %tenant.id, "warehouse created");
        Ok(tenant)
    }

    /// A stored warehouse.
    pub async fn admin_tenant(&self, raw_id: &str) -> Result<Tenant, AdminError> {
        let id = WarehouseId::parse(raw_id).ok_or(AdminError::NotFound)?;
        self.store.tenant(&id).await?.ok_or(AdminError::NotFound)
    }

    /// Disables a warehouse: from this write on its keys authenticate nothing; then every
    /// invite of it not yet connected is withdrawn, so its links show the withdrawn page.
    /// Answers how many were withdrawn by this call. Disabling again withdraws what a crashed
    /// earlier call left pending.
    pub async fn disable_tenant(&self, raw_id: &str) -> Result<usize, AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        self.store.set_tenant_disabled(&tenant.id, true).await?;
        let mut withdrawn = 0;
        let mut page = PageRequest::first(100);
        loop {
            let found = self
                .store
                .list_invites(&tenant.id, &InviteFilter::default(), &page)
                .await?;
            for invite in found.items {
                if !invite.status.may_become(InviteStatus::Revoked) {
                    continue;
                }
                match self
                    .store
                    .set_invite_status(
                        &invite.id,
                        InviteStatus::Revoked,
                        Some("the warehouse was disabled"),
                        self.clock.now(),
                    )
                    .await
                {
                    Ok(()) => {
                        withdrawn += 1;
                        // In its history (and so to the warehouse's webhooks) as any withdrawal.
                        self.record_invite_event(
                            &invite.id,
                            crate::domain::InviteEventKind::Withdrawn,
                            None,
                            None,
                        )
                        .await;
                    }
                    // Changed meanwhile (connected, or withdrawn by another call).
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(AdminError::Store(e)),
                }
            }
            match found.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        tracing::info!(warehouse_id = %tenant.id, withdrawn, "warehouse disabled");
        Ok(withdrawn)
    }

    /// Mints a key for a stored, enabled warehouse.
    pub async fn issue_api_key(&self, raw_id: &str, name: &str) -> Result<IssuedKey, AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        if tenant.disabled {
            return Err(invalid("warehouse", "is disabled"));
        }
        let minted = MintedKey::generate();
        let record = ApiKeyRecord {
            id: format!("key-{}", &crate::domain::InviteId::generate().as_str()[4..]),
            warehouse: tenant.id,
            hash: minted.hash,
            prefix: minted.prefix,
            name: if name.trim().is_empty() {
                "default".to_owned()
            } else {
                text("name", name, 100)?
            },
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.insert_api_key(&record).await?;
        tracing::info!(warehouse_id = %record.warehouse, key_id = %record.id, "api key issued");
        Ok(IssuedKey {
            record,
            secret: minted.secret,
        })
    }

    /// A stored warehouse's keys, revoked ones too.
    pub async fn admin_api_keys(&self, raw_id: &str) -> Result<Vec<ApiKeyRecord>, AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        Ok(self.store.api_keys_of(&tenant.id).await?)
    }

    /// Revokes a key: its next call answers 401. Revoking twice is the same as once.
    pub async fn revoke_api_key(&self, raw_id: &str, key_id: &str) -> Result<(), AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        self.store
            .revoke_api_key(&tenant.id, key_id, self.clock.now())
            .await?;
        tracing::info!(warehouse_id = %tenant.id, key_id, "api key revoked");
        Ok(())
    }

    /// Replaces a warehouse's branding (its logo aside), each field checked first.
    pub async fn set_branding(
        &self,
        raw_id: &str,
        input: BrandingInput,
    ) -> Result<Tenant, AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        let accent = input
            .accent
            .as_deref()
            .map(|a| match Accent::parse(a) {
                Ok(a) => Ok(a.as_str().to_owned()),
                Err(AccentError::Malformed) => Err(invalid("accent", "must be #rrggbb")),
                Err(AccentError::LowContrast(r)) => Err(AdminError::LowContrast(r)),
            })
            .transpose()?;
        let branding = Branding {
            accent,
            support_email: input
                .support_email
                .as_deref()
                .map(|e| email("support_email", e))
                .transpose()?,
            privacy_url: input.privacy_url.as_deref().map(privacy_url).transpose()?,
            logo_version: tenant.branding.logo_version,
        };
        self.store.set_branding(&tenant.id, &branding).await?;
        Ok(Tenant { branding, ..tenant })
    }

    /// Checks an uploaded logo by decoding it, re-encodes it as PNG and stores that; answers
    /// the logo's new version.
    pub async fn upload_logo(&self, raw_id: &str, upload: &[u8]) -> Result<u32, AdminError> {
        let tenant = self.admin_tenant(raw_id).await?;
        let png = logo::reencode(upload).map_err(AdminError::Logo)?;
        Ok(self.store.put_logo(&tenant.id, &png).await?)
    }

    /// The PNG cartlink serves as a warehouse's logo, if it has one.
    pub async fn warehouse_logo(&self, raw_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match WarehouseId::parse(raw_id) {
            Some(id) => self.store.logo(&id).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests;
