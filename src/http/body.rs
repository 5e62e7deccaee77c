//! The request body limit, [`BODY_LIMIT`](super::BODY_LIMIT), whatever the framing: a
//! declared `Content-Length` over it is refused before a byte is read, and any other body
//! (chunked, or a length that lies) is read up to the limit before the handler runs, so a
//! handler that never reads its body cannot let a 10 MB chunked upload through. No
//! endpoint takes a body today, so holding at most 16 KiB per request costs nothing.

use std::future::poll_fn;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;

use super::error::ApiError;
use super::{BODY_LIMIT, REQUEST_TIMEOUT};

/// The middleware on `/api/v1` (inside the token check: a stranger's body is never read).
pub async fn limit(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.size_hint().exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, read_limited(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::unavailable(format!(
            "the request body did not arrive within {}s",
            REQUEST_TIMEOUT.as_secs()
        ))
        .into_response(),
    }
}

/// The whole body, if it is at most `limit` bytes.
///
/// # Errors
/// 413 when it is longer (told by its declared length, or when the bytes pass the limit);
/// 400 when it cannot be read.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {} KiB", limit / 1024),
        )
    };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    #[tokio::test]
    async fn a_streamed_body_is_cut_at_the_limit_and_a_declared_one_before_reading() {
        let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024]));
        let streamed = Body::from_stream(stream::iter(chunks));
        let err = read_limited(streamed, 16 * 1024).await.unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err.message, "the request body is larger than 16 KiB");
        let declared = Body::from(vec![b'x'; 17 * 1024]);
        let err = read_limited(declared, 16 * 1024).await.unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        let fits = Body::from(vec![b'x'; 16 * 1024]);
        assert_eq!(
            read_limited(fits, 16 * 1024).await.unwrap().len(),
            16 * 1024
        );
    }
}
