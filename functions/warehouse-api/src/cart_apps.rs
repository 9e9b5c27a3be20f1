//! The warehouse's own apps at carts: `GET /v1/cart-apps`, and `PUT`, `GET` and `DELETE
//! /v1/cart-apps/{cart}`. A client secret is taken, sealed, and never answered.

use http::StatusCode;
use serde::Serialize;
use shared::domain::{CartApp, WarehouseId};
use shared::service::cart_apps::{CartAppError, NewCartApp};
use shared::service::Services;
use shared::web::{Request, Response};

use super::{json_body, unavailable, ApiError};

impl From<CartAppError> for ApiError {
    fn from(e: CartAppError) -> Self {
        match e {
            CartAppError::UnknownCart => ApiError::UnknownCart,
            CartAppError::NoAppAtCart => ApiError::NoAppAtCart,
            CartAppError::Invalid(reason) => ApiError::Invalid {
                field: "cart_app",
                reason,
            },
            CartAppError::NotFound => ApiError::NotFound,
            CartAppError::Store(e) => unavailable(e),
            CartAppError::Vault(e) => {
                tracing::error!(error = %e, "key service failed sealing a cart app's secret");
                ApiError::Unavailable
            }
        }
    }
}

/// A warehouse's app at a cart, as answered (never its secret).
#[derive(Serialize)]
pub struct CartAppView {
    /// The cart's id.
    pub cart: String,
    /// The app's client id.
    pub client_id: String,
    /// Whether a client secret is stored (sealed).
    pub has_client_secret: bool,
    /// The app id, where the cart needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft.
    pub draft: bool,
    /// When it was first registered (RFC 3339).
    pub created_at: String,
    /// When it was last written (RFC 3339).
    pub updated_at: String,
}

impl CartAppView {
    fn of(app: &CartApp) -> Self {
        CartAppView {
            cart: app.cart.to_string(),
            client_id: app.client_id.clone(),
            has_client_secret: app.secret.is_some(),
            app_id: app.app_id.clone(),
            ru_name: app.ru_name.clone(),
            draft: app.draft,
            created_at: app.created_at.rfc3339(),
            updated_at: app.updated_at.rfc3339(),
        }
    }
}

/// `PUT /v1/cart-apps/{cart}`: 201 when the warehouse had no app at the cart, else 200.
pub(crate) async fn put_app(
    svc: &Services,
    warehouse: &WarehouseId,
    cart: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let body: NewCartApp = json_body(req)?;
    let (app, created) = svc.put_cart_app(warehouse, cart, body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(shared::web::json(status, &CartAppView::of(&app)))
}

/// `GET /v1/cart-apps/{cart}`.
pub(crate) async fn show_app(
    svc: &Services,
    warehouse: &WarehouseId,
    cart: &str,
) -> Result<Response, ApiError> {
    let app = svc.cart_app_of(warehouse, cart).await?;
    Ok(shared::web::json(StatusCode::OK, &CartAppView::of(&app)))
}

/// `GET /v1/cart-apps`.
pub(crate) async fn list_apps(
    svc: &Services,
    warehouse: &WarehouseId,
) -> Result<Response, ApiError> {
    let apps = svc.cart_apps_of(warehouse).await.map_err(unavailable)?;
    let data: Vec<CartAppView> = apps.iter().map(CartAppView::of).collect();
    Ok(shared::web::json(
        StatusCode::OK,
        &serde_json::json!({ "data": data }),
    ))
}

/// `DELETE /v1/cart-apps/{cart}`.
pub(crate) async fn delete_app(
    svc: &Services,
    warehouse: &WarehouseId,
    cart: &str,
) -> Result<Response, ApiError> {
    svc.remove_cart_app(warehouse, cart).await?;
    Ok(shared::web::no_content())
}
