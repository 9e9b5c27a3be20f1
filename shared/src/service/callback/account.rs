//! The account of a grant whose cart names it in neither the callback nor the token answer,
//! read with the new access token where the entry says ([`crate::carts::AccountLookup`]):
//! eBay's `userId`, which its account deletion notifications name.

use crate::carts::{pattern_matches, CartSpec, Vars};
use crate::domain::TokenSet;
use crate::oauth::OAuthError;
use crate::service::Services;

impl Services {
    /// `tokens` with their account read from the cart, when its entry has an account lookup
    /// and the token answer named none. An answer without an id of the entry's shape is
    /// refused: a connection the cart's account signals could not find is not stored.
    pub(super) async fn with_account(
        &self,
        cart: &CartSpec,
        mut tokens: TokenSet,
    ) -> Result<TokenSet, OAuthError> {
        let Some(lookup) = &cart.account_lookup else {
            return Ok(tokens);
        };
        if tokens.account.is_some() {
            return Ok(tokens);
        }
        let url = cart
            .endpoint(&lookup.url, &Vars::new())
            .map_err(|e| OAuthError::BadResponse(e.to_string()))?;
        let answer = self.oauth.get_json(&url, &tokens.access_token).await?;
        let account = answer
            .get(&lookup.field)
            .and_then(|v| v.as_str())
            .filter(|id| pattern_matches(&lookup.pattern, id))
            .ok_or_else(|| {
                OAuthError::BadResponse(format!("the account answer has no {}", lookup.field))
            })?;
        tokens.account = Some(account.to_owned());
        Ok(tokens)
    }
}
