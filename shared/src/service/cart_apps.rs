//! A warehouse's own apps at carts (`/v1/cart-apps`): registering, reading and removing them;
//! the app an invite goes through; the cart entry a grant or a connection uses, with its app's
//! credentials; and the refusal of a store another warehouse holds through the same app where
//! the cart keeps one active token per app and store.
//!
//! An invite made while the warehouse has an app at its cart goes through that app, and so do
//! its attempts and its connection (each carries the app's mark, [`OwnApp`]). A mark names the
//! client id it was made with: after the warehouse replaces its app with another client id, or
//! removes it, a record of the old app has no credentials and says so (its connection must be
//! granted again through the app the warehouse has now).

use std::borrow::Cow;

use serde::Deserialize;

use super::invites::InviteError;
use super::setup::SetupError;
use super::Services;
use crate::carts::{CartId, CartSpec, ClientCredentials, EntryCredentials, Flavour};
use crate::domain::{AppIdentity, CartApp, OwnApp, Secret, WarehouseId};
use crate::store::StoreError;
use crate::vault::VaultError;

/// The body of `PUT /v1/cart-apps/{cart}`. Unknown fields are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCartApp {
    /// The app's client id at the cart.
    pub client_id: String,
    /// The app's client secret (absent for a cart whose clients take none).
    pub client_secret: Option<String>,
    /// The app id, where the cart needs one (Amazon's `application_id`).
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one (eBay).
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft (Amazon: `version=beta`).
    #[serde(default)]
    pub draft: bool,
}

/// The longest client id, app id or RuName taken.
pub const MAX_APP_FIELD_LEN: usize = 512;
/// The longest client secret taken.
pub const MAX_APP_SECRET_LEN: usize = 4096;

impl NewCartApp {
    /// Each field within its length (named, never echoed).
    fn check_lengths(&self) -> Result<(), CartAppError> {
        let fields = [
            ("client_id", Some(&self.client_id), MAX_APP_FIELD_LEN),
            (
                "client_secret",
                self.client_secret.as_ref(),
                MAX_APP_SECRET_LEN,
            ),
            ("app_id", self.app_id.as_ref(), MAX_APP_FIELD_LEN),
            ("ru_name", self.ru_name.as_ref(), MAX_APP_FIELD_LEN),
        ];
        for (name, value, max) in fields {
            if value.is_some_and(|v| v.chars().count() > max) {
                return Err(CartAppError::Invalid(format!(
                    "{name} must be at most {max} characters"
                )));
            }
        }
        Ok(())
    }
}

/// Why a cart-app call did not do what it asked.
#[derive(Debug, thiserror::Error)]
pub enum CartAppError {
    /// No such cart in the catalog.
    #[error("unknown cart")]
    UnknownCart,
    /// The cart's merchants authorize without an app (they create keys or an integration in
    /// their admin), so there is nothing to register.
    #[error("the cart takes no app credentials")]
    NoAppAtCart,
    /// A field is wrong: what is wrong, in words safe to show (never the value).
    #[error("{0}")]
    Invalid(String),
    /// The warehouse has no app at this cart.
    #[error("no app at this cart")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key service failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Why a grant or a connection made through a warehouse's own app cannot use it now.
#[derive(Debug, thiserror::Error)]
pub enum AppUnavailable {
    /// The warehouse removed the app, or replaced it with one of another client id: the
    /// records of the old app have no credentials any more.
    #[error("the warehouse's app at this cart was removed or replaced")]
    Gone,
    /// cartlink has no app at this cart, and the record went through cartlink's.
    #[error("the cart has no app credentials")]
    NotEnabled,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key service failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Whether the resolved credentials need the client secret opened: the grant page only builds
/// the authorization URL, which carries the client id, so it never opens a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretUse {
    /// The caller sends the secret (an exchange, a refresh, a revocation, call details).
    Open,
    /// The caller only names the app.
    IdOnly,
}

impl Services {
    /// Registers (or replaces) `warehouse`'s app at `cart`, checked against what the cart needs
    /// (the same rule as cartlink's own credentials), its secret sealed. Answers the record and
    /// whether it is new.
    pub async fn put_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &str,
        body: NewCartApp,
    ) -> Result<(CartApp, bool), CartAppError> {
        let cart = self.app_cart(cart)?;
        body.check_lengths()?;
        let given = EntryCredentials {
            client_id: Some(body.client_id),
            client_secret: body.client_secret,
            app_id: body.app_id,
            ru_name: body.ru_name,
            draft: body.draft,
            client_secret_env: None,
        };
        let checked = given
            .for_cart("cart app", &cart.credential_terms(), &|_| None)
            .map_err(CartAppError::Invalid)?;
        let secret = match &checked.client_secret {
            Some(s) => Some(
                self.vault
                    .seal(
                        &CartApp::seal_context(warehouse, &cart.id),
                        s.expose().as_bytes(),
                    )
                    .await?,
            ),
            None => None,
        };
        let now = self.clock.now();
        let before = self.store.cart_app(warehouse, &cart.id).await?;
        let app = CartApp {
            warehouse: warehouse.clone(),
            cart: cart.id.clone(),
            client_id: checked.client_id,
            secret,
            app_id: checked.app_id,
            ru_name: checked.ru_name,
            draft: checked.draft,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        self.store.put_cart_app(&app).await?;
        tracing::info!(warehouse_id = %warehouse, cart = %cart.id, "cart app stored");
        Ok((app, before.is_none()))
    }

    /// `warehouse`'s app at `cart`.
    pub async fn cart_app_of(
        &self,
        warehouse: &WarehouseId,
        cart: &str,
    ) -> Result<CartApp, CartAppError> {
        let cart = self.app_cart(cart)?;
        self.store
            .cart_app(warehouse, &cart.id)
            .await?
            .ok_or(CartAppError::NotFound)
    }

    /// Every app of `warehouse`, by cart id.
    pub async fn cart_apps_of(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError> {
        self.store.cart_apps(warehouse).await
    }

    /// Removes `warehouse`'s app at `cart`: invites made from now on go through cartlink's
    /// app; the records of the removed one have no credentials any more.
    pub async fn remove_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &str,
    ) -> Result<(), CartAppError> {
        let cart = self.app_cart(cart)?;
        if !self.store.delete_cart_app(warehouse, &cart.id).await? {
            return Err(CartAppError::NotFound);
        }
        tracing::info!(warehouse_id = %warehouse, cart = %cart.id, "cart app removed");
        Ok(())
    }

    /// A cart that takes an app's credentials: one whose merchants authorize an app in a popup.
    fn app_cart(&self, cart: &str) -> Result<&CartSpec, CartAppError> {
        let cart = CartId::parse(cart)
            .and_then(|id| self.catalog.get(&id))
            .ok_or(CartAppError::UnknownCart)?;
        if cart.flavour != Flavour::PopupOauth {
            return Err(CartAppError::NoAppAtCart);
        }
        Ok(cart)
    }

    /// The app a new invite of `warehouse` at `cart` for `store` goes through: the
    /// warehouse's own app there, else cartlink's. Refused where neither has credentials, and
    /// where another warehouse holds the store through the same app at a cart that keeps one
    /// active token per app and store.
    pub(in crate::service) async fn invite_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartSpec,
        store: Option<&str>,
    ) -> Result<Option<OwnApp>, InviteError> {
        let app = match cart.flavour {
            Flavour::PopupOauth => self
                .store
                .cart_app(warehouse, &cart.id)
                .await?
                .map(|a| a.mark()),
            _ => None,
        };
        if !cart.enabled() && app.is_none() {
            return Err(InviteError::CartNotEnabled);
        }
        if let Some(store) = store {
            if self
                .store_held_elsewhere(cart, store, app.as_ref(), warehouse)
                .await?
            {
                return Err(InviteError::StoreHeldElsewhere {
                    cart: cart.name.clone(),
                    id: cart.id.clone(),
                });
            }
        }
        Ok(app)
    }

    /// The invite's cart as the grant page uses it: with the client id of the app the invite
    /// goes through (never its secret).
    pub(in crate::service) async fn grant_cart<'a>(
        &self,
        cart: &'a CartSpec,
        invite: &crate::domain::Invite,
    ) -> Result<Cow<'a, CartSpec>, SetupError> {
        match self
            .cart_through(cart, invite.app.as_ref(), SecretUse::IdOnly)
            .await
        {
            Ok(cart) => Ok(cart),
            Err(AppUnavailable::Store(e)) => Err(e.into()),
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "grant page: the cart's app is not at hand");
                Err(SetupError::CartUnavailable)
            }
        }
    }

    /// `cart` with the credentials of the app a record marked `app` went through: the entry
    /// itself for cartlink's app, a copy holding the warehouse's app's credentials otherwise
    /// (its secret opened only for [`SecretUse::Open`]).
    pub(in crate::service) async fn cart_through<'a>(
        &self,
        cart: &'a CartSpec,
        app: Option<&OwnApp>,
        secret: SecretUse,
    ) -> Result<Cow<'a, CartSpec>, AppUnavailable> {
        let Some(app) = app else {
            return match cart.credentials {
                Some(_) => Ok(Cow::Borrowed(cart)),
                None if cart.flavour == Flavour::Credentials => Ok(Cow::Borrowed(cart)),
                None => Err(AppUnavailable::NotEnabled),
            };
        };
        let stored = self
            .store
            .cart_app(&app.warehouse, &cart.id)
            .await?
            .filter(|s| s.client_id == app.client_id)
            .ok_or(AppUnavailable::Gone)?;
        let client_secret = match (&stored.secret, secret) {
            (Some(sealed), SecretUse::Open) => {
                let context = CartApp::seal_context(&app.warehouse, &cart.id);
                let plain = self.vault.open(&context, sealed).await?;
                let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Refused)?;
                Some(Secret::new(text))
            }
            _ => None,
        };
        let mut through = cart.clone();
        through.credentials = Some(ClientCredentials {
            client_id: stored.client_id,
            client_secret,
            app_id: stored.app_id,
            ru_name: stored.ru_name,
            draft: stored.draft,
        });
        Ok(Cow::Owned(through))
    }

    /// Whether another warehouse holds `store` at `cart` through the same app as `app`, where
    /// the cart keeps one active token per app and store: a grant through it would end that
    /// warehouse's access. Always `false` at other carts.
    pub(in crate::service) async fn store_held_elsewhere(
        &self,
        cart: &CartSpec,
        store: &str,
        app: Option<&OwnApp>,
        warehouse: &WarehouseId,
    ) -> Result<bool, StoreError> {
        if cart.one_token_per_store.is_none() {
            return Ok(false);
        }
        // cartlink's own client id from the catalog: `cart` may be a copy holding the
        // warehouse's app's credentials.
        let cartlink = self
            .catalog
            .get(&cart.id)
            .and_then(|c| c.credentials.as_ref())
            .map(|c| c.client_id.as_str());
        let ours = AppIdentity::of(app).client_id(cartlink);
        for id in self.store.ids_at_account(&cart.id, store).await? {
            // A dropped connection's record shares the index and holds no token.
            let Some(held) = self.store.connection(&id).await? else {
                continue;
            };
            let theirs = AppIdentity::of(held.app.as_ref()).client_id(cartlink);
            if &held.warehouse_id != warehouse && theirs.is_some() && theirs == ours {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests;
