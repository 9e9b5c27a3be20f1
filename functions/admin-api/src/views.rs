//! What the admin API answers, and the public logo route.

use bytes::Bytes;
use http::HeaderValue;
use serde::Serialize;
use shared::domain::{ApiKeyRecord, Tenant};
use shared::service::Services;
use shared::web::api::Problem;
use shared::web::{Request, Response};

/// A warehouse as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct TenantView {
    id: String,
    display_name: String,
    notify_email: String,
    created_at: String,
    disabled: bool,
    accent: Option<String>,
    support_email: Option<String>,
    privacy_url: Option<String>,
    /// Where the logo is served from (our origin), if there is one.
    logo_url: Option<String>,
}

impl TenantView {
    /// The view of `t`.
    pub fn of(svc: &Services, t: &Tenant) -> TenantView {
        TenantView {
            id: t.id.to_string(),
            display_name: t.display_name.clone(),
            notify_email: t.notify_email.clone(),
            created_at: t.created_at.rfc3339(),
            disabled: t.disabled,
            accent: t.branding.accent.clone(),
            support_email: t.branding.support_email.clone(),
            privacy_url: t.branding.privacy_url.clone(),
            logo_url: t.branding.logo_version.map(|v| {
                format!(
                    "{}/brand/{}/logo.png?v={v}",
                    svc.config.public_base_url, t.id
                )
            }),
        }
    }
}

/// A key as the admin API lists it: never the key, nor its hash.
#[derive(Debug, Serialize)]
pub struct KeyView {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<&ApiKeyRecord> for KeyView {
    fn from(k: &ApiKeyRecord) -> Self {
        KeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            created_at: k.created_at.rfc3339(),
            last_used_at: k.last_used_at.map(|t| t.rfc3339()),
            revoked_at: k.revoked_at.map(|t| t.rfc3339()),
        }
    }
}

/// `GET /brand/{warehouse}/logo.png`: the PNG cartlink encoded, from our origin, so pages and
/// emails show it without a request to anyone else. `None` for any other path; 404 when the
/// warehouse has no logo.
pub async fn serve_logo(svc: &Services, req: &Request) -> Option<Response> {
    let segments = req.segments();
    let ["brand", id, "logo.png"] = segments.as_slice() else {
        return None;
    };
    if !req.is_read() {
        return Some(
            Problem::method_not_allowed("GET /brand/{warehouse}/logo.png.").into_response(),
        );
    }
    let resp = match svc.warehouse_logo(id).await {
        Ok(Some(png)) => {
            let mut resp = http::Response::new(Bytes::from(png));
            let h = resp.headers_mut();
            for (name, value) in [
                ("content-type", "image/png"),
                ("x-content-type-options", "nosniff"),
                ("content-security-policy", "default-src 'none'"),
                ("cache-control", "public, max-age=300"),
            ] {
                h.insert(name, HeaderValue::from_static(value));
            }
            resp
        }
        Ok(None) => Problem::not_found("This warehouse has no logo.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "store failed reading a logo");
            Problem::unavailable().into_response()
        }
    };
    Some(shared::web::for_method(&req.method, resp))
}
