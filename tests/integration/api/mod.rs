//! The HTTP API against a real daemon (`metrics.listen: 127.0.0.1:0`): every endpoint's
//! answers, good and bad, each JSON body checked against its schema in `docs/openapi.yaml`
//! ([`Schemas`], with the `jsonschema` crate: the document is OpenAPI 3.1, whose schemas
//! are JSON Schema 2020-12), the event stream and shutdown with a stream open.

mod assets;
mod details;
mod endpoints;
pub mod events;
mod plan;
mod secrets;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::helper::Sandbox;

/// The address the daemon wrote to `state/metrics.addr`.
pub fn addr(sb: &Sandbox) -> String {
    let path = sb.path().join("state").join("metrics.addr");
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// The token the daemon made.
pub fn token(sb: &Sandbox) -> String {
    let out = sb.slotcron(&["token"]);
    assert!(out.status.success(), "{}", crate::helper::stderr(&out));
    let token = crate::helper::stdout(&out).trim().to_owned();
    assert_eq!(token.len(), 64, "{token}");
    token
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header lines, lowercased names.
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The error code of a JSON error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// `METHOD path` with these extra header lines and body, over HTTP/1.1 (`Connection:
/// close`, read to the end).
pub fn request(addr: &str, method: &str, path: &str, headers: &[String], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(text.as_bytes()).unwrap();
    // A refused body may be answered before it is all sent.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

pub fn get(addr: &str, path: &str) -> Answer {
    request(addr, "GET", path, &[], b"")
}

pub fn post(addr: &str, path: &str, token: Option<&str>) -> Answer {
    let headers: Vec<String> = token
        .map(|t| format!("Authorization: Bearer {t}"))
        .into_iter()
        .collect();
    request(addr, "POST", path, &headers, b"")
}

/// The component schemas of `docs/openapi.yaml`.
pub struct Schemas {
    document: Value,
}

impl Schemas {
    pub fn load() -> Schemas {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let document: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        Schemas { document }
    }

    /// Panics, listing every violation, unless `value` matches `components.schemas.<name>`.
    pub fn check(&self, name: &str, value: &Value) {
        assert!(
            self.document["components"]["schemas"].get(name).is_some(),
            "no schema {name}"
        );
        // The whole document as the root resource, so `#/components/...` references
        // resolve; its other keys are not JSON Schema keywords and are ignored.
        let mut schema = self.document.clone();
        schema["$ref"] = Value::String(format!("#/components/schemas/{name}"));
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name} does not match docs/openapi.yaml:\n{}\n{value:#}",
            errors.join("\n")
        );
    }

    /// A JSON error answer with this status and code, checked against `Error`.
    pub fn error(&self, answer: &Answer, status: u16, code: &str) {
        assert_eq!(answer.status, status, "{}\n{}", answer.head, answer.body);
        self.check("Error", &answer.json());
        assert_eq!(answer.code(), code, "{}", answer.body);
    }
}

#[test]
fn the_schemas_refuse_what_they_should() {
    let schemas = Schemas::load();
    let bad = serde_json::json!({"error": {"code": "nope", "message": "m"}});
    let result = std::panic::catch_unwind(|| schemas.check("Error", &bad));
    assert!(result.is_err(), "an unknown code must not pass");
    let missing = serde_json::json!({"runs": []});
    let result = std::panic::catch_unwind(|| schemas.check("RunPage", &missing));
    assert!(result.is_err(), "next_before is required");
    schemas.check(
        "RunPage",
        &serde_json::json!({"runs": [], "next_before": null}),
    );
}
