//! Who may do what: every POST needs `Authorization: Bearer <token>`; a GET needs it too
//! when the listener is not on loopback, unless `api.public_read`, and so does asking for
//! job `env` values (`?reveal_env=true`). Without a token (the file could not be made,
//! which the daemon allows only on loopback) POSTs answer 403.
//! No cookies, so a page elsewhere cannot act with a user's credentials (no CSRF).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::token::ApiToken;

/// The access rules of one server.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `None`: no token could be made; actions are refused (403).
    pub token: Option<Arc<ApiToken>>,
    /// Whether GETs need the token (a non-loopback listener without `api.public_read`).
    pub reads_need_token: bool,
}

impl Access {
    /// The rules for a listener on `addr` with `public_read`.
    pub fn new(token: Option<ApiToken>, loopback: bool, public_read: bool) -> Access {
        Access {
            token: token.map(Arc::new),
            reads_need_token: !loopback && !public_read,
        }
    }

    /// Whether a request with this method and `Authorization` header may go on.
    ///
    /// # Errors
    /// 401 without the right token where one is needed; 403 for an action when there is no
    /// token at all.
    pub fn check(&self, method: &Method, authorization: Option<&str>) -> Result<(), ApiError> {
        let reading = matches!(*method, Method::GET | Method::HEAD);
        if reading && !self.reads_need_token {
            return Ok(());
        }
        self.require_token(authorization)
    }

    /// Whether `authorization` carries the token, whatever the method and listener (for
    /// what even an open read must ask for: `?reveal_env=true`).
    ///
    /// # Errors
    /// 401 without the right token; 403 when there is no token at all.
    pub fn require_token(&self, authorization: Option<&str>) -> Result<(), ApiError> {
        let Some(token) = &self.token else {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "actions are disabled: the daemon could not make its token file (see its log)",
            ));
        };
        match authorization.and_then(bearer) {
            Some(presented) if token.matches(presented) => Ok(()),
            Some(_) => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "wrong token (see `slotcron token`)",
            )),
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "this needs `Authorization: Bearer <token>` (the token: `slotcron token`)",
            )),
        }
    }
}

/// The credentials of an `Authorization: Bearer <token>` value; the scheme is matched
/// whatever its case (RFC 7235: schemes are case-insensitive).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, credentials) = authorization.trim().split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// The `Authorization` header's value, if it is text.
pub fn authorization(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// The middleware on `/api/v1`.
pub async fn require(State(access): State<Access>, request: Request, next: Next) -> Response {
    match access.check(request.method(), authorization(request.headers())) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn token() -> ApiToken {
        ApiToken::parse(&"5a".repeat(32)).unwrap()
    }

    fn bearer() -> String {
        format!("Bearer {}", "5a".repeat(32))
    }

    #[test]
    fn on_loopback_reads_are_open_and_actions_need_the_token() {
        let access = Access::new(Some(token()), true, false);
        assert!(access.check(&Method::GET, None).is_ok());
        let err = access.check(&Method::POST, None).unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        let err = access
            .check(&Method::POST, Some("Bearer nope"))
            .unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert!(err.message.contains("wrong token"));
        assert!(access.check(&Method::POST, Some(&bearer())).is_ok());
        let err = access
            .check(&Method::POST, Some(&"5a".repeat(32)))
            .unwrap_err();
        assert_eq!(
            err.status,
            StatusCode::UNAUTHORIZED,
            "Bearer scheme required"
        );
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            let header = format!("{scheme} {}", "5a".repeat(32));
            assert!(
                access.check(&Method::POST, Some(&header)).is_ok(),
                "{scheme}"
            );
        }
        let basic = format!("Basic {}", "5a".repeat(32));
        assert!(access.check(&Method::POST, Some(&basic)).is_err());
    }

    #[test]
    fn the_token_can_be_required_of_a_read() {
        let access = Access::new(Some(token()), true, false);
        let err = access.require_token(None).unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert!(access.require_token(Some(&bearer())).is_ok());
        let none = Access::new(None, true, false);
        assert_eq!(
            none.require_token(Some(&bearer())).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn elsewhere_reads_need_the_token_unless_public() {
        let closed = Access::new(Some(token()), false, false);
        assert_eq!(
            closed.check(&Method::GET, None).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert!(closed.check(&Method::GET, Some(&bearer())).is_ok());
        let public = Access::new(Some(token()), false, true);
        assert!(public.check(&Method::GET, None).is_ok());
        assert_eq!(
            public.check(&Method::POST, None).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn without_a_token_actions_are_forbidden() {
        let access = Access::new(None, true, false);
        assert!(access.check(&Method::GET, None).is_ok());
        let err = access.check(&Method::POST, Some(&bearer())).unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
    }
}
