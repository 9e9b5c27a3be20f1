//! What the merchant (through the warehouse) tells cartlink before a grant: the input's
//! pattern, how it is cleaned, its choices, and the template variables it sets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

use super::pattern::{pattern_matches, Pattern};
use crate::domain::Function;
use crate::net::host_port;

/// How a merchant input is cleaned before its pattern is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    /// Trimmed, lower-cased.
    Lowercase,
    /// An `https://` URL to a public host (never loopback, private or link-local: cartlink
    /// calls it itself), trimmed, host lower-cased, no trailing slash.
    PublicHttpsUrl,
}

/// One allowed value of a choice input (a region), and the template values it sets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The value the warehouse sends (`eu`).
    pub value: String,
    /// What it means (`Europe`).
    pub label: String,
    /// Template variables it sets (`seller_central` = `sellercentral-europe.amazon.com`).
    #[serde(skip_serializing, default)]
    pub vars: BTreeMap<String, String>,
    /// The scopes per function when this choice needs others than the cart's (Lightspeed
    /// X-Series); empty: the cart's.
    #[serde(skip_serializing, default)]
    pub scopes: BTreeMap<Function, Vec<String>>,
}

/// What the merchant (through the warehouse) must tell cartlink before a grant, carried in the
/// invite's `store` field.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantInput {
    /// Its name and template variable (`shop`, `store_url`, `region`, `series`).
    pub key: String,
    /// What to ask for.
    pub label: String,
    /// The anchored pattern the cleaned value must match.
    pub pattern: Pattern,
    /// How it is cleaned first.
    pub normalize: Normalize,
    /// The allowed values, when it is a choice.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub choices: Vec<Choice>,
}

impl MerchantInput {
    /// Cleans and checks a value: the stored form, or why it is refused.
    pub fn validate(&self, raw: &str) -> Result<String, String> {
        let trimmed = raw.trim();
        let value = match self.normalize {
            Normalize::Lowercase => trimmed.to_ascii_lowercase(),
            Normalize::PublicHttpsUrl => crate::net::public_https_url(trimmed)?,
        };
        if !pattern_matches(&self.pattern, &value) {
            return Err(format!("must match {}", self.pattern.as_str()));
        }
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == value) {
            let all: Vec<&str> = self.choices.iter().map(|c| c.value.as_str()).collect();
            return Err(format!("must be one of {}", all.join(", ")));
        }
        Ok(value)
    }

    /// The template variables a validated value sets: itself under its key, the chosen
    /// option's variables, and for a URL its host as `store_host`.
    pub fn vars(&self, value: &str, vars: &mut Vars) {
        vars.insert(self.key.clone(), value.to_owned());
        if let Some(choice) = self.choices.iter().find(|c| c.value == value) {
            for (k, v) in &choice.vars {
                vars.insert(k.clone(), v.clone());
            }
        }
        if self.normalize == Normalize::PublicHttpsUrl {
            if let Some(host) = Url::parse(value).ok().as_ref().and_then(host_port) {
                vars.insert("store_host".into(), host);
            }
        }
    }
}

/// Template variables: validated merchant inputs, their choices, and validated callback values.
pub type Vars = BTreeMap<String, String>;
