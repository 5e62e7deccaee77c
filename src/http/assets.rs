//! The dashboard: `index.html`, `app.js` and `app.css` embedded in the binary from
//! `src/http/dashboard/` (no CDN, works offline), each with a strict Content-Security-Policy
//! (no inline script or style), `nosniff`, and `no-cache` (a new binary's page is loaded at
//! once; the files are small).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The policy of every dashboard file.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; connect-src 'self'";

const INDEX: &str = include_str!("dashboard/index.html");
const APP_JS: &str = include_str!("dashboard/app.js");
const APP_CSS: &str = include_str!("dashboard/app.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// `GET /`.
pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/app.js`.
pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /assets/app.css`.
pub async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}
