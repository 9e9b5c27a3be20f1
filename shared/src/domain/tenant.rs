//! Warehouses kept as data (tenants), with their branding and the records of their API keys.

use super::brand::{logo_path, Brand};
use super::ids::{Timestamp, WarehouseId};
use super::secrets::TokenHash;
use super::warehouse::Warehouse;

/// A warehouse created through the admin API and kept in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: WarehouseId,
    /// The name merchants see.
    pub display_name: String,
    /// Where its confirmations go.
    pub notify_email: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// A disabled warehouse's keys authenticate nothing and its pending invites are withdrawn.
    pub disabled: bool,
    /// How its pages and emails look.
    pub branding: Branding,
}

impl Tenant {
    /// The warehouse as the flows use it (its keys live in their own records), its logo served
    /// from `base_url`.
    pub fn to_warehouse(&self, base_url: &str) -> Warehouse {
        let b = &self.branding;
        Warehouse {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            notify_email: self.notify_email.clone(),
            api_key_hashes: Vec::new(),
            brand: Brand {
                accent: b.accent.clone(),
                support_email: b.support_email.clone(),
                privacy_url: b.privacy_url.clone(),
                logo_url: b
                    .logo_version
                    .map(|v| format!("{base_url}{}", logo_path(&self.id, v))),
            },
            // Stored warehouses name no language yet: their merchants' invites carry their own
            // `locale`, else English.
            locale: None,
        }
    }
}

/// A warehouse's look, checked before it is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    /// `#rrggbb`, dark enough for white text (WCAG AA, see [`Accent`]).
    pub accent: Option<String>,
    /// The Reply-To of every email to its merchants.
    pub support_email: Option<String>,
    /// Its privacy policy (https), linked from the grant page.
    pub privacy_url: Option<String>,
    /// The version of its uploaded logo (bumped on every upload), if it has one.
    pub logo_version: Option<u32>,
}

/// The record of one API key: never the key, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Its id (`key-…`), to name it when revoking.
    pub id: String,
    /// The warehouse it authenticates.
    pub warehouse: WarehouseId,
    /// The SHA-256 of the key.
    pub hash: TokenHash,
    /// `clk_live_` and its first symbols, to tell keys apart.
    pub prefix: String,
    /// An operator's name for it.
    pub name: String,
    /// When it was minted.
    pub created_at: Timestamp,
    /// When it last authenticated a call (to within [`LAST_USED_GRANULARITY_SECS`]).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<Timestamp>,
}

/// How stale a key's `last_used_at` may get before a call writes it again: one write per key
/// per five minutes, not one per call.
pub const LAST_USED_GRANULARITY_SECS: i64 = 300;

/// An accent colour that white text may sit on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accent(String);

/// The WCAG 2.x AA contrast ratio for normal text.
pub const AA_CONTRAST: f64 = 4.5;

/// Why an accent colour is refused.
#[derive(Clone, Debug, PartialEq)]
pub enum AccentError {
    /// Not `#rrggbb`.
    Malformed,
    /// White text on it falls short of [`AA_CONTRAST`]; the ratio it reaches.
    LowContrast(f64),
}

impl Accent {
    /// Accepts `#rrggbb` (any case, stored lower case) if white text on it reaches WCAG AA.
    pub fn parse(value: &str) -> Result<Accent, AccentError> {
        let hex = value.strip_prefix('#').ok_or(AccentError::Malformed)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AccentError::Malformed);
        }
        let channel =
            |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| AccentError::Malformed);
        let ratio = contrast_with_white(channel(0)?, channel(2)?, channel(4)?);
        if ratio < AA_CONTRAST {
            return Err(AccentError::LowContrast(ratio));
        }
        Ok(Accent(format!("#{}", hex.to_ascii_lowercase())))
    }

    /// The colour as `#rrggbb`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The WCAG 2.x contrast ratio of white against the sRGB colour (r, g, b).
pub fn contrast_with_white(r: u8, g: u8, b: u8) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_on_black_is_21_and_on_white_is_1() {
        // GIVEN the extremes  THEN the ratios are WCAG's
        assert!((contrast_with_white(0, 0, 0) - 21.0).abs() < 1e-9);
        assert!((contrast_with_white(255, 255, 255) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn an_accent_passes_only_at_aa_for_white_text() {
        // GIVEN #767676 (4.54:1, the lightest grey passing) and #777777 (4.48:1)
        // THEN the first is accepted (lower-cased), the second refused with its ratio
        assert_eq!(Accent::parse("#767676").unwrap().as_str(), "#767676");
        assert_eq!(Accent::parse("#1A4D8F").unwrap().as_str(), "#1a4d8f");
        assert!(matches!(
            Accent::parse("#777777"),
            Err(AccentError::LowContrast(r)) if r < 4.5 && r > 4.4
        ));
        assert!(matches!(
            Accent::parse("#ffff00"),
            Err(AccentError::LowContrast(_))
        ));
    }

    #[test]
    fn an_accent_that_is_not_rrggbb_is_malformed() {
        // GIVEN values that are not #rrggbb  THEN each is malformed
        for bad in ["1a4d8f", "#1a4d8", "#1a4d8fff", "#gg0000", "red", ""] {
            assert_eq!(Accent::parse(bad), Err(AccentError::Malformed), "{bad}");
        }
    }
}
