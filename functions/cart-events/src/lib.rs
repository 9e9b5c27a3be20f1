//! `cart-events`: the carts' own calls about an app's lifecycle, server to server.
//! `POST /cart-events/shopify` takes Shopify's webhooks to the app (`app/uninstalled` and the
//! three mandatory privacy topics), verified as Shopify documents before anything is read.
//! `GET /cart-events/bigcommerce/uninstall` is BigCommerce's uninstall callback, whose
//! `signed_payload_jwt` is verified (HS256 with the app's client secret) before anything is read.
//! `GET /cart-events/bigcommerce/load` (the same payload, which must also name the store's
//! `owner` and the `user`) answers the page BigCommerce shows in its control panel: the
//! warehouses connected to the store and how each is withdrawn ([`load`]); a refusal is a page
//! too. `GET /cart-events/bigcommerce/remove_user` is answered 204 once verified: cartlink keeps
//! no users of its own.
//! `POST /cart-events/square` takes Square's `oauth.authorization.revoked` event, whose
//! `x-square-hmacsha256-signature` (over the notification URL and the body) is verified with
//! the webhook subscription's signature key before anything is read.
//! `POST /cart-events/wix` takes Wix's App Instance Removed webhook, a body that is a JWT
//! verified (RS256, with the app's public key of `[wix_webhooks]`) before anything is read.
//! `POST /cart-events/ecwid` takes Ecwid's `application.uninstalled` webhook, whose
//! `X-Ecwid-Webhook-Signature` (over `eventCreated.eventId`) is verified with the app's client
//! secret before anything but those two fields is read.
//! `POST /cart-events/tiktok-shop` takes TikTok Shop's seller deauthorization webhook, whose
//! `Authorization` (hex HMAC-SHA256 over the app key and the body) is verified with the app
//! secret before anything is read.
//! `POST /cart-events/squarespace` takes Squarespace's `extension.uninstall` notification, whose
//! `Squarespace-Signature` (hex HMAC-SHA256 of the body) is verified with the secret of the
//! subscription care made at the site the body names, before anything else of it is read.
//! `GET /cart-events/ebay?challenge_code=…` answers eBay's endpoint challenge, and
//! `POST /cart-events/ebay` takes its marketplace account deletion notifications, whose
//! `X-EBAY-SIGNATURE` is verified with eBay's public key before anything is read; a bad
//! signature is 412, as eBay's SDK answers it.
//!
//! Answers: 200 once handled (a repeat of a handled uninstall is refused as a replay, 409, and
//! changes nothing); 401 `bad_signature`; 400 `stale` or `malformed`; 404 for another path or a
//! cart that is not configured; 503 `unavailable` when the store fails (the cart delivers
//! again). Bodies are small JSON objects with a stable code, never the delivery's content.

pub mod load;

use http::{Method, StatusCode};
use shared::service::lifecycle::shopify::ShopifyDelivery;
use shared::service::lifecycle::{CartEventError, CartEventOutcome};
use shared::service::Services;
use shared::web::page::Ui;
use shared::web::{self, Request, Response};

/// The answer to a delivery: each outcome mapped once to a status and a code.
fn answer(result: Result<CartEventOutcome, CartEventError>) -> Response {
    answer_refusing_signatures_with(result, StatusCode::UNAUTHORIZED)
}

/// [`answer`], a bad signature answered with `bad_signature` (eBay's SDK answers 412 to one,
/// the other carts 401).
fn answer_refusing_signatures_with(
    result: Result<CartEventOutcome, CartEventError>,
    bad_signature: StatusCode,
) -> Response {
    match result {
        Ok(CartEventOutcome::Revoked { connections }) => web::json(
            StatusCode::OK,
            &serde_json::json!({ "handled": true, "revoked": connections }),
        ),
        Ok(CartEventOutcome::NoCustomerData) => web::json(
            StatusCode::OK,
            &serde_json::json!({ "handled": true, "customer_data_held": false }),
        ),
        Err(e) => {
            let status = match &e {
                CartEventError::BadSignature => bad_signature,
                CartEventError::Stale | CartEventError::Malformed(_) => StatusCode::BAD_REQUEST,
                CartEventError::Replayed => StatusCode::CONFLICT,
                CartEventError::UnknownCart => StatusCode::NOT_FOUND,
                CartEventError::KeysUnavailable | CartEventError::Store(_) => {
                    tracing::error!(error = %e, "store failed handling a cart event");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            web::json(status, &serde_json::json!({ "error": e.code() }))
        }
    }
}

/// Handles a cart-events request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    match (req.segments().as_slice(), &req.method) {
        (["cart-events", "shopify"], &Method::POST) => {
            let delivery = ShopifyDelivery {
                topic: req.header("x-shopify-topic"),
                hmac: req.header("x-shopify-hmac-sha256"),
                webhook_id: req.header("x-shopify-webhook-id"),
                triggered_at: req.header("x-shopify-triggered-at"),
                shop_domain: req.header("x-shopify-shop-domain"),
                body: &req.body,
            };
            answer(svc.shopify_event(delivery).await)
        }
        (["cart-events", "square"], &Method::POST) => {
            let signature = req.header("x-square-hmacsha256-signature");
            answer(svc.square_event(signature, &req.body).await)
        }
        (["cart-events", "wix"], &Method::POST) => answer(svc.wix_event(&req.body).await),
        (["cart-events", "ecwid"], &Method::POST) => {
            let signature = req.header("x-ecwid-webhook-signature");
            answer(svc.ecwid_event(signature, &req.body).await)
        }
        (["cart-events", "tiktok-shop"], &Method::POST) => {
            let signature = req.header("authorization");
            answer(svc.tiktok_shop_event(signature, &req.body).await)
        }
        (["cart-events", "squarespace"], &Method::POST) => {
            let signature = req.header("squarespace-signature");
            answer(svc.squarespace_event(signature, &req.body).await)
        }
        (["cart-events", "bigcommerce", "uninstall"], &Method::GET) => {
            let params = req.query_params();
            let jwt = params.get("signed_payload_jwt").map(String::as_str);
            answer(svc.bigcommerce_uninstall(jwt).await)
        }
        (["cart-events", "bigcommerce", "load"], &Method::GET) => {
            let params = req.query_params();
            let jwt = params.get("signed_payload_jwt").map(String::as_str);
            let ui = Ui {
                base: svc.config.public_base_url.clone(),
                locale: web::lang::page_locale(&req).0,
                here: None,
            };
            match svc.bigcommerce_load(jwt).await {
                Ok(store) => load::page(&ui, &store),
                Err(e) => load::refusal(&ui, &e),
            }
        }
        (["cart-events", "bigcommerce", "remove_user"], &Method::GET) => {
            let params = req.query_params();
            let jwt = params.get("signed_payload_jwt").map(String::as_str);
            match svc.bigcommerce_remove_user(jwt) {
                Ok(()) => web::no_content(),
                Err(e) => answer(Err(e)),
            }
        }
        (["cart-events", "ebay"], &Method::GET) => {
            let params = req.query_params();
            match svc.ebay_challenge(params.get("challenge_code").map(String::as_str)) {
                Ok(answer) => web::json(
                    StatusCode::OK,
                    &serde_json::json!({ "challengeResponse": answer }),
                ),
                Err(e) => answer(Err(e)),
            }
        }
        (["cart-events", "ebay"], &Method::POST) => {
            let signature = req.header("x-ebay-signature");
            answer_refusing_signatures_with(
                svc.ebay_notification(signature, &req.body).await,
                StatusCode::PRECONDITION_FAILED,
            )
        }
        _ => web::json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "error": "not_found" }),
        ),
    }
}
