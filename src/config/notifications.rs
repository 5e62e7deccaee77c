//! `notifications:` in `slotcron.yaml`: each entry validated into a
//! [`ChannelSpec`](crate::channels::ChannelSpec), every bad field named with its value.

use std::collections::BTreeSet;

use lettre::message::Mailbox;
use ureq::http::{HeaderName, HeaderValue, Uri};

use super::fields::Fields;
use super::raw::{RawNotification, RawSmtp};
use crate::channels::{
    ChannelSpec, CommandSpec, DEFAULT_MIN_SEVERITY, DEFAULT_RETRIES, DEFAULT_SMTP_PORT,
    DEFAULT_TIMEOUT, EmailSpec, MAX_RETRIES, Severity, StartTls, Target, WebhookSpec,
};

/// Every valid entry of `notifications:`; each bad one adds its problems to `f`.
pub fn channels(f: &mut Fields<'_>, raw: Option<&[RawNotification]>) -> Vec<ChannelSpec> {
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (index, entry) in raw.unwrap_or_default().iter().enumerate() {
        let at = format!("notifications[{index}]");
        if let Some(spec) = channel(f, &at, index, entry) {
            if names.insert(spec.name.clone()) {
                out.push(spec);
            } else {
                f.problem(
                    &format!("{at}.name"),
                    &spec.name,
                    "another notification has this name",
                );
            }
        }
    }
    out
}

fn channel(
    f: &mut Fields<'_>,
    at: &str,
    index: usize,
    raw: &RawNotification,
) -> Option<ChannelSpec> {
    let before = f.problems.len();
    let field = |name: &str| format!("{at}.{name}");
    let kind = match raw.kind.as_deref() {
        None => {
            f.problem(
                &field("type"),
                "",
                "every notification needs a type: webhook, email or command",
            );
            None
        }
        Some(kind) => f.choice(
            &field("type"),
            Some(kind),
            &[("webhook", 0), ("email", 1), ("command", 2)],
        ),
    };
    let min_severity = f
        .choice(
            &field("min_severity"),
            raw.min_severity.as_deref(),
            &Severity::ALL.map(|s| (s.as_str(), s)),
        )
        .unwrap_or(DEFAULT_MIN_SEVERITY);
    let timeout = f.duration(&field("timeout"), raw.timeout.as_ref());
    if timeout.is_some_and(|t| t.is_zero()) {
        f.problem(
            &field("timeout"),
            raw.timeout.as_ref().expect("parsed"),
            "must be above 0",
        );
    }
    let retries = f.integer(
        &field("retries"),
        raw.retries.as_ref(),
        0..=u64::from(MAX_RETRIES),
    );
    let target = match kind {
        Some(0) => webhook(f, at, raw),
        Some(1) => email(f, at, raw),
        Some(2) => command(f, at, raw),
        _ => None,
    };
    let name = match &raw.name {
        Some(name) if name.trim().is_empty() => {
            f.problem(&field("name"), name, "must not be empty");
            None
        }
        Some(name) => Some(name.clone()),
        None => target
            .as_ref()
            .map(|t: &Target| format!("{}-{index}", t.type_name())),
    };
    if f.problems.len() > before {
        return None;
    }
    Some(ChannelSpec {
        name: name?,
        min_severity,
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        retries: retries.map_or(DEFAULT_RETRIES, |n| n as u32),
        target: target?,
    })
}

/// Records a problem for each field present that `kind` does not use.
fn foreign(f: &mut Fields<'_>, at: &str, kind: &str, present: &[(&str, bool)]) {
    for (name, is_set) in present {
        if *is_set {
            f.problem(
                &format!("{at}.{name}"),
                "",
                format!("is not a field of type {kind}"),
            );
        }
    }
}

fn webhook(f: &mut Fields<'_>, at: &str, raw: &RawNotification) -> Option<Target> {
    foreign(
        f,
        at,
        "webhook",
        &[
            ("smtp", raw.smtp.is_some()),
            ("from", raw.from.is_some()),
            ("to", raw.to.is_some()),
            ("command", raw.command.is_some()),
        ],
    );
    let url = match raw.url.as_deref() {
        None => {
            f.problem(
                &format!("{at}.url"),
                "",
                "a webhook needs a url (http:// or https://)",
            );
            None
        }
        Some(text) => match text.parse::<Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some_and(|h| !h.is_empty()) =>
            {
                Some(uri)
            }
            _ => {
                f.problem(
                    &format!("{at}.url"),
                    text,
                    "must be an http:// or https:// URL with a host",
                );
                None
            }
        },
    };
    let mut headers = Vec::new();
    for (name, value) in raw.headers.iter().flatten() {
        let field = format!("{at}.headers.{name}");
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            f.problem(&field, name, "not a valid HTTP header name");
            continue;
        };
        match HeaderValue::from_str(&value.to_string()) {
            Ok(v) => headers.push((header, v)),
            Err(_) => f.problem(
                &field,
                value,
                "not a valid HTTP header value (visible ASCII only)",
            ),
        }
    }
    Some(Target::Webhook(WebhookSpec { url: url?, headers }))
}

fn email(f: &mut Fields<'_>, at: &str, raw: &RawNotification) -> Option<Target> {
    foreign(
        f,
        at,
        "email",
        &[
            ("url", raw.url.is_some()),
            ("headers", raw.headers.is_some()),
            ("command", raw.command.is_some()),
        ],
    );
    let smtp = smtp(f, at, raw.smtp.as_ref());
    let mailbox = |f: &mut Fields<'_>, field: &str, text: &str| match text.parse::<Mailbox>() {
        Ok(m) => Some(m),
        Err(e) => {
            f.problem(field, text, format!("not an e-mail address: {e}"));
            None
        }
    };
    let from = match raw.from.as_deref() {
        Some(text) => mailbox(f, &format!("{at}.from"), text),
        None => {
            f.problem(
                &format!("{at}.from"),
                "",
                "an email notification needs a from address",
            );
            None
        }
    };
    let to: Vec<Option<Mailbox>> = raw
        .to
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, text)| mailbox(f, &format!("{at}.to[{i}]"), text))
        .collect();
    if to.is_empty() {
        f.problem(
            &format!("{at}.to"),
            "",
            "an email notification needs at least one address in to: [...]",
        );
    }
    let (host, port, starttls, username, password_env) = smtp?;
    Some(Target::Email(EmailSpec {
        host,
        port,
        starttls,
        username,
        password_env,
        from: from?,
        to: to.into_iter().collect::<Option<Vec<_>>>()?,
    }))
}

type Smtp = (String, u16, StartTls, Option<String>, Option<String>);

fn smtp(f: &mut Fields<'_>, at: &str, raw: Option<&RawSmtp>) -> Option<Smtp> {
    let field = |name: &str| format!("{at}.smtp.{name}");
    let Some(raw) = raw else {
        f.problem(
            &format!("{at}.smtp"),
            "",
            "an email notification needs smtp: { host: ... }",
        );
        return None;
    };
    let host = match raw.host.as_deref().map(str::trim) {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Some(h.to_owned()),
        other => {
            f.problem(
                &field("host"),
                other.unwrap_or_default(),
                "must be the SMTP server's host name",
            );
            None
        }
    };
    let port = f
        .integer(&field("port"), raw.port.as_ref(), 1..=65_535)
        .map_or(DEFAULT_SMTP_PORT, |p| p as u16);
    let starttls = f
        .choice(
            &field("starttls"),
            raw.starttls.as_deref(),
            &[
                ("none", StartTls::None),
                ("opportunistic", StartTls::Opportunistic),
                ("required", StartTls::Required),
            ],
        )
        .unwrap_or(StartTls::Required);
    if let Some(password) = &raw.password {
        let _ = password;
        f.problem(&field("password"), "(hidden)", "never put the password in the file: set password_env to the name of an environment variable that holds it");
    }
    match (&raw.username, &raw.password_env) {
        (Some(_), None) => f.problem(
            &field("password_env"),
            "",
            "username needs password_env: the environment variable holding the password",
        ),
        (None, Some(var)) => f.problem(
            &field("username"),
            var,
            "password_env is set but username is not",
        ),
        _ => {}
    }
    if let Some(var) = &raw.password_env
        && (var.is_empty()
            || var.starts_with(|c: char| c.is_ascii_digit())
            || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        f.problem(
            &field("password_env"),
            var,
            "must be an environment variable name (letters, digits, `_`)",
        );
    }
    if raw.username.is_some()
        && starttls == StartTls::None
        && let Some(h) = &host
        && !is_loopback(h)
    {
        f.problem(&field("starttls"), "none", format!("would send the password to {h} in clear: use opportunistic or required (plain-text login is allowed only to a loopback host)"));
    }
    Some((
        host?,
        port,
        starttls,
        raw.username.clone(),
        raw.password_env.clone(),
    ))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn command(f: &mut Fields<'_>, at: &str, raw: &RawNotification) -> Option<Target> {
    foreign(
        f,
        at,
        "command",
        &[
            ("url", raw.url.is_some()),
            ("headers", raw.headers.is_some()),
            ("smtp", raw.smtp.is_some()),
            ("from", raw.from.is_some()),
            ("to", raw.to.is_some()),
        ],
    );
    match raw.command.as_deref() {
        Some([program, ..]) if !program.trim().is_empty() => Some(Target::Command(CommandSpec {
            argv: raw.command.clone().unwrap_or_default(),
        })),
        other => {
            f.problem(
                &format!("{at}.command"),
                other.map(|a| a.join(" ")).unwrap_or_default(),
                "a command notification needs command: [program, args...]",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::channels::{Severity, StartTls, Target};
    use crate::config::{Problems, Settings};

    fn parse(text: &str) -> Result<Settings, Problems> {
        Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), text)
    }

    #[test]
    fn the_three_types_with_their_defaults() {
        let s = parse(
            "notifications:\n\
             \x20 - name: ops-webhook\n    type: webhook\n    url: http://127.0.0.1:9000/hook\n    headers: { X-Token: abc }\n\
             \x20 - type: email\n    smtp: { host: smtp.example.com, port: 587, starttls: required, username: me, password_env: SLOTCRON_SMTP_PASSWORD }\n    from: slotcron@example.com\n    to: [ops@example.com]\n    min_severity: error\n    timeout: 30s\n    retries: 0\n\
             \x20 - type: command\n    command: [/usr/local/bin/page-me, --now]\n",
        )
        .unwrap();
        let n = &s.notifications;
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].name, "ops-webhook");
        assert_eq!(
            (n[0].min_severity, n[0].timeout, n[0].retries),
            (Severity::Warning, Duration::from_secs(10), 3)
        );
        let Target::Webhook(w) = &n[0].target else {
            panic!()
        };
        assert_eq!(w.url.to_string(), "http://127.0.0.1:9000/hook");
        assert_eq!(w.headers[0].0.as_str(), "x-token");
        assert_eq!(n[1].name, "email-1");
        assert_eq!(
            (n[1].min_severity, n[1].timeout, n[1].retries),
            (Severity::Error, Duration::from_secs(30), 0)
        );
        let Target::Email(e) = &n[1].target else {
            panic!()
        };
        assert_eq!((e.port, e.starttls), (587, StartTls::Required));
        assert_eq!(e.password_env.as_deref(), Some("SLOTCRON_SMTP_PASSWORD"));
        assert_eq!(e.to[0].email.to_string(), "ops@example.com");
        assert_eq!(n[2].name, "command-2");
        assert!(parse("").unwrap().notifications.is_empty());
    }

    #[test]
    fn bad_fields_are_named_with_file_field_and_value() {
        let err = parse(
            "notifications:\n\
             \x20 - type: webhook\n    url: ftp://example.com/x\n    min_severity: fatal\n\
             \x20 - type: pager\n\
             \x20 - type: email\n    smtp: { host: mail.example.com, username: me, password_env: PW, starttls: none }\n    from: not an address\n\
             \x20 - type: command\n    command: []\n    timeout: 10\n    retries: 99\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "/etc/slotcron/slotcron.yaml: field `notifications[0].url`: must be an http:// or https:// URL with a host (value: `ftp://example.com/x`)",
            "field `notifications[0].min_severity`: must be one of: info, warning, error, critical (value: `fatal`)",
            "field `notifications[1].type`: must be one of: webhook, email, command (value: `pager`)",
            "field `notifications[2].to`: an email notification needs at least one address",
            "field `notifications[2].from`: not an e-mail address",
            "(value: `not an address`)",
            "field `notifications[2].smtp.starttls`: would send the password to mail.example.com in clear",
            "field `notifications[3].command`: a command notification needs command",
            "field `notifications[3].timeout`: a duration needs a unit",
            "field `notifications[3].retries`: must be a whole number from 0 to 10 (value: `99`)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }

    #[test]
    fn passwords_stay_out_of_the_file_and_names_are_unique() {
        let text = parse(
            "notifications:\n\
             \x20 - type: email\n    smtp: { host: 127.0.0.1, username: me, password: hunter2 }\n    from: a@b.c\n    to: [d@e.f]\n\
             \x20 - { name: x, type: command, command: [/bin/true] }\n\
             \x20 - { name: x, type: webhook, url: 'https://h/', smtp: { host: h } }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(!text.contains("hunter2"), "{text}");
        for needle in [
            "field `notifications[0].smtp.password`: never put the password in the file",
            "field `notifications[0].smtp.password_env`: username needs password_env",
            "field `notifications[2].smtp`: is not a field of type webhook",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        let text = parse(
            "notifications:\n  - { name: x, type: command, command: [/bin/true] }\n  - { name: x, type: webhook, url: 'https://h/' }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains(
                "field `notifications[1].name`: another notification has this name (value: `x`)"
            ),
            "{text}"
        );
        let text = parse("notifications:\n  - { type: webhook, urls: x }\n")
            .unwrap_err()
            .to_string();
        assert!(text.contains("unknown field `urls`"), "{text}");
    }
}
