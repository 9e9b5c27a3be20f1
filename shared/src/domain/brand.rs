//! How a stored warehouse looks to merchants, as its invites keep it.

use serde::{Deserialize, Serialize};

use super::ids::WarehouseId;

/// The path on our origin a warehouse's logo is served at, with its version so a new upload is
/// never a cached old one.
pub fn logo_path(id: &WarehouseId, version: u32) -> String {
    format!("/brand/{id}/logo.png?v={version}")
}

/// A warehouse's look as an invite keeps it (copied when the invite is made, like its name),
/// and as its pages and emails show it. All checked when set; empty for a configured
/// warehouse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Brand {
    /// `#rrggbb`, dark enough for white text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent: Option<String>,
    /// The Reply-To of emails to the merchant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
    /// The privacy policy the grant page links to (https).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    /// The logo, on our own origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

impl Brand {
    /// Whether there is nothing to show (a configured warehouse, or one never branded).
    pub fn is_plain(&self) -> bool {
        self == &Brand::default()
    }
}
