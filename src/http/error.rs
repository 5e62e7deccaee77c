//! The API's one error shape, `{"error": {"code", "message"}}`, with the status it goes
//! with (`docs/openapi.yaml`: `Error`). Handlers return
//! `Result<_, ApiError>`; [`json_errors`] rewrites the few answers that come from layers
//! (408 from the timeout, 405 from the router) into the same shape, and the server writes
//! it for what hyper answers itself (`super::wire`) and for refused connections, so a
//! client parses every non-2xx answer under `/api` the same way.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::control::handle::EngineGone;
use crate::store::StoreError;

/// A refused or failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status; its `code` word follows from it ([`code_of`]).
    pub status: StatusCode,
    /// For a human: what was wrong, naming the parameter and value.
    pub message: String,
}

/// The `code` of a status: the contract's table.
pub fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        431 => "headers_too_large",
        422 => "invalid",
        503 | 408 => "unavailable",
        _ => "internal",
    }
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: a parameter that does not parse.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 422: a parameter that parses but is not acceptable.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The JSON body: `{"error": {"code", "message"}}`.
    pub fn body(&self) -> Vec<u8> {
        let body = json!({"error": {"code": code_of(self.status), "message": self.message}});
        serde_json::to_vec(&body).expect("a JSON value serializes")
    }

    /// The whole HTTP/1.1 answer with `connection: close` and `extra` headers, for the
    /// places that write bytes themselves (a refused connection, hyper's bare answers).
    pub fn to_http1(&self, extra: &[(&str, &str)]) -> Vec<u8> {
        let body = self.body();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or(""),
            body.len()
        );
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut answer = head.into_bytes();
        answer.extend_from_slice(&body);
        answer
    }
}

impl From<EngineGone> for ApiError {
    fn from(gone: EngineGone) -> ApiError {
        ApiError::unavailable(gone.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::unavailable(format!("history: {error}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> ApiError {
        ApiError::internal(format!("a history read failed: {error}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Rewrites a non-2xx answer under `/api` that is not JSON (from a layer or the router)
/// into the error shape, keeping its status.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.is_success() || is_json || status.is_informational() {
        return response;
    }
    let message = match status.as_u16() {
        413 => format!(
            "the request body is larger than {} KiB",
            super::BODY_LIMIT / 1024
        ),
        408 => "the request took too long".to_owned(),
        405 => "this method is not allowed on this path".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let status = if status == StatusCode::REQUEST_TIMEOUT {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status
    };
    let mut rewritten = ApiError::new(status, message).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rewritten.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_have_the_contract_shape_and_unauthorized_asks_for_bearer() {
        let response = ApiError::new(StatusCode::UNAUTHORIZED, "no token").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            body,
            r#"{"error":{"code":"unauthorized","message":"no token"}}"#
        );
    }

    #[tokio::test]
    async fn layer_answers_become_json_and_a_timeout_is_unavailable() {
        let plain = (StatusCode::PAYLOAD_TOO_LARGE, "too big").into_response();
        let rewritten = json_errors(plain).await;
        assert_eq!(rewritten.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(rewritten.into_body(), 1024)
            .await
            .unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("\"code\":\"payload_too_large\""),
            "{body:?}"
        );
        let timeout = json_errors((StatusCode::REQUEST_TIMEOUT, "").into_response()).await;
        assert_eq!(timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        let ok = json_errors((StatusCode::OK, "fine").into_response()).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
