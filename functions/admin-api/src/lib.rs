//! `admin-api`: the operator's API under `/admin/v1/`, reached on AWS only through an
//! `AWS_IAM`-authorized route and locally only with the admin key (`CARTLINK_ADMIN_KEY`, see
//! [`admin_key_matches`]). Warehouses: `POST` and `GET /admin/v1/warehouses`,
//! `GET /admin/v1/warehouses/{id}`, `POST /admin/v1/warehouses/{id}/disable`; their keys:
//! `POST` and `GET /admin/v1/warehouses/{id}/keys`, `DELETE /admin/v1/warehouses/{id}/keys/{key}`;
//! their look: `PUT /admin/v1/warehouses/{id}/branding`, `PUT /admin/v1/warehouses/{id}/logo`
//! (the image as the body). The logo is served to everyone by [`serve_logo`]
//! (`GET /brand/{id}/logo.png`, on the grant page's function).

use http::{Method, StatusCode};
use serde::Serialize;
use shared::domain::secrets::constant_time_eq;
use shared::domain::{ApiKeyRecord, Tenant};
use shared::service::admin::logo::{LogoError, MAX_LOGO_BYTES};
use shared::service::admin::{AdminError, BrandingInput, NewTenant};
use shared::service::Services;
use shared::web::api::{bearer, Problem};
use shared::web::{Request, Response};

mod views;

pub use views::serve_logo;
use views::{KeyView, TenantView};

/// Whether the request carries `expected` as its bearer token, compared in constant time. The
/// local server lets a request into the admin API only then; an empty key lets nobody in.
pub fn admin_key_matches(req: &Request, expected: &str) -> bool {
    match bearer(req) {
        Some(sent) if !expected.is_empty() => {
            constant_time_eq(sent.as_bytes(), expected.as_bytes())
        }
        _ => false,
    }
}

/// The answer to an admin request without the admin key.
pub fn unauthorized() -> Response {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "The admin API needs the admin credential.",
    )
    .into_response()
}

fn problem(e: AdminError) -> Problem {
    match e {
        AdminError::Invalid { field, reason } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            format!("{field}: {reason}"),
        ),
        AdminError::LowContrast(ratio) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "accent-contrast",
            "Accent colour too light",
            format!(
                "White text on this accent reaches {ratio:.2}:1; WCAG AA needs at least 4.5:1. Choose a darker colour."
            ),
        ),
        AdminError::Logo(e) => logo_problem(e),
        AdminError::Exists => Problem::new(
            StatusCode::CONFLICT,
            "warehouse-exists",
            "Warehouse exists",
            "A warehouse with this id exists (stored or in the configuration file).",
        ),
        AdminError::NotFound => Problem::not_found("No such warehouse, or no such key of it."),
        AdminError::Store(e) => {
            tracing::error!(error = %e, "store failed in the admin API");
            Problem::unavailable()
        }
    }
}

fn logo_problem(e: LogoError) -> Problem {
    let detail = e.to_string();
    match e {
        LogoError::TooLarge(_) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "logo-too-large",
            "Logo too large",
            detail,
        ),
        LogoError::Unsupported => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "logo-unsupported",
            "Logo format not accepted",
            detail,
        ),
        LogoError::Malformed(_) | LogoError::Dimensions(..) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "logo-invalid",
            "Logo refused",
            detail,
        ),
    }
}

fn invalid_json(e: serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-json",
        "Invalid JSON body",
        e.to_string(),
    )
}

/// A route of the admin API, with its path's ids.
enum Call<'a> {
    CreateWarehouse,
    ListWarehouses,
    ShowWarehouse(&'a str),
    Disable(&'a str),
    CreateKey(&'a str),
    ListKeys(&'a str),
    RevokeKey(&'a str, &'a str),
    Branding(&'a str),
    Logo(&'a str),
}

fn call<'a>(req: &'a Request, segments: &[&'a str]) -> Result<Call<'a>, Problem> {
    let m = &req.method;
    Ok(match segments {
        ["admin", "v1", "warehouses"] if m == Method::POST => Call::CreateWarehouse,
        ["admin", "v1", "warehouses"] if m == Method::GET => Call::ListWarehouses,
        ["admin", "v1", "warehouses", id] if m == Method::GET => Call::ShowWarehouse(id),
        ["admin", "v1", "warehouses", id, "disable"] if m == Method::POST => Call::Disable(id),
        ["admin", "v1", "warehouses", id, "keys"] if m == Method::POST => Call::CreateKey(id),
        ["admin", "v1", "warehouses", id, "keys"] if m == Method::GET => Call::ListKeys(id),
        ["admin", "v1", "warehouses", id, "keys", key] if m == Method::DELETE => {
            Call::RevokeKey(id, key)
        }
        ["admin", "v1", "warehouses", id, "branding"] if m == Method::PUT => Call::Branding(id),
        ["admin", "v1", "warehouses", id, "logo"] if m == Method::PUT => Call::Logo(id),
        ["admin", "v1", "warehouses"]
        | ["admin", "v1", "warehouses", _]
        | ["admin", "v1", "warehouses", _, "disable" | "keys" | "branding" | "logo"]
        | ["admin", "v1", "warehouses", _, "keys", _] => {
            return Err(Problem::method_not_allowed(
                "See docs/api.md#admin-api for the admin routes and their methods.",
            ))
        }
        _ => return Err(Problem::not_found("No such admin route.")),
    })
}

/// Handles an admin request that its entry point let in.
pub async fn handle(svc: &Services, req: Request) -> Response {
    match route(svc, &req).await {
        Ok(resp) => resp,
        Err(p) => p.into_response(),
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, Problem> {
    Ok(shared::web::json(status, value))
}

async fn route(svc: &Services, req: &Request) -> Result<Response, Problem> {
    let segments = req.segments();
    match call(req, &segments)? {
        Call::CreateWarehouse => {
            let new: NewTenant = serde_json::from_slice(&req.body).map_err(invalid_json)?;
            let tenant = svc.create_tenant(new).await.map_err(problem)?;
            json(StatusCode::CREATED, &TenantView::of(svc, &tenant))
        }
        Call::ListWarehouses => {
            let all = svc.store.tenants().await.map_err(|e| problem(e.into()))?;
            let views: Vec<TenantView> = all.iter().map(|t| TenantView::of(svc, t)).collect();
            json(StatusCode::OK, &serde_json::json!({ "warehouses": views }))
        }
        Call::ShowWarehouse(id) => {
            let tenant = svc.admin_tenant(id).await.map_err(problem)?;
            json(StatusCode::OK, &TenantView::of(svc, &tenant))
        }
        Call::Disable(id) => {
            let withdrawn = svc.disable_tenant(id).await.map_err(problem)?;
            let tenant: Tenant = svc.admin_tenant(id).await.map_err(problem)?;
            let mut view = serde_json::to_value(TenantView::of(svc, &tenant)).unwrap_or_default();
            view["invites_withdrawn"] = withdrawn.into();
            json(StatusCode::OK, &view)
        }
        Call::CreateKey(id) => {
            #[derive(serde::Deserialize, Default)]
            #[serde(deny_unknown_fields)]
            struct NewKey {
                #[serde(default)]
                name: String,
            }
            let new: NewKey = if req.body.is_empty() {
                NewKey::default()
            } else {
                serde_json::from_slice(&req.body).map_err(invalid_json)?
            };
            let issued = svc.issue_api_key(id, &new.name).await.map_err(problem)?;
            let mut view = serde_json::to_value(KeyView::from(&issued.record)).unwrap_or_default();
            view["key"] = issued.secret.expose().into();
            json(StatusCode::CREATED, &view)
        }
        Call::ListKeys(id) => {
            let keys = svc.admin_api_keys(id).await.map_err(problem)?;
            let views: Vec<KeyView> = keys.iter().map(KeyView::from).collect();
            json(StatusCode::OK, &serde_json::json!({ "keys": views }))
        }
        Call::RevokeKey(id, key) => {
            svc.revoke_api_key(id, key).await.map_err(problem)?;
            let keys: Vec<ApiKeyRecord> = svc.admin_api_keys(id).await.map_err(problem)?;
            let record = keys
                .iter()
                .find(|k| k.id == *key)
                .ok_or_else(|| problem(AdminError::NotFound))?;
            json(StatusCode::OK, &KeyView::from(record))
        }
        Call::Branding(id) => {
            let input: BrandingInput = serde_json::from_slice(&req.body).map_err(invalid_json)?;
            let tenant = svc.set_branding(id, input).await.map_err(problem)?;
            json(StatusCode::OK, &TenantView::of(svc, &tenant))
        }
        Call::Logo(id) => {
            if req.body.len() > MAX_LOGO_BYTES {
                return Err(logo_problem(LogoError::TooLarge(req.body.len())));
            }
            svc.upload_logo(id, &req.body).await.map_err(problem)?;
            let tenant = svc.admin_tenant(id).await.map_err(problem)?;
            json(StatusCode::OK, &TenantView::of(svc, &tenant))
        }
    }
}

#[cfg(test)]
mod tests;
