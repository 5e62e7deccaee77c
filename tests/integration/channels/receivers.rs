//! Real receivers on loopback for the notification tests: an HTTP/1.1 server that records
//! each request and answers with a scripted status (or never answers), and an SMTP server
//! that speaks just enough of RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to record
//! each message. Both bind port 0 and stop when their test's runtime ends.

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One request as the HTTP receiver read it.
#[derive(Debug)]
pub struct Request {
    /// `POST /hook HTTP/1.1`.
    pub line: String,
    /// Lowercased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// An HTTP receiver: `url` to post to, `requests` as they arrive.
pub struct HttpReceiver {
    pub url: String,
    pub requests: mpsc::UnboundedReceiver<Request>,
}

/// Answers the n-th request (0-based) with `statuses[n]`, the last entry repeating;
/// `None` reads the request and then never answers.
pub async fn http_receiver(statuses: Vec<Option<u16>>) -> HttpReceiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (tx, statuses, served) = (tx.clone(), statuses.clone(), served.clone());
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                while let Some(request) = read_request(&mut reader).await {
                    let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = tx.send(request);
                    let status = statuses[n.min(statuses.len() - 1)];
                    let Some(status) = status else {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    };
                    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                    if reader.get_mut().write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    HttpReceiver { url, requests }
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(Request {
        line: line.trim_end().to_owned(),
        headers,
        body,
    })
}

/// One message as the SMTP receiver recorded it.
#[derive(Debug, Default)]
pub struct Mail {
    /// `user:password` from AUTH PLAIN, if the client logged in.
    pub login: Option<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed.
    pub data: String,
}

/// An SMTP receiver on `port`. It offers AUTH PLAIN and never STARTTLS.
pub struct SmtpReceiver {
    pub port: u16,
    pub mails: mpsc::UnboundedReceiver<Mail>,
}

pub async fn smtp_receiver() -> SmtpReceiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mails) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(smtp_session(stream, tx.clone()));
        }
    });
    SmtpReceiver { port, mails }
}

async fn smtp_session(stream: TcpStream, tx: mpsc::UnboundedSender<Mail>) -> Option<()> {
    let mut s = BufReader::new(stream);
    s.get_mut().write_all(b"220 test ESMTP\r\n").await.ok()?;
    let mut mail = Mail::default();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
        } else if let Some(encoded) = upper.strip_prefix("AUTH PLAIN ").map(|_| &line[11..]) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let parts: Vec<String> = raw
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            mail.login = Some(format!("{}:{}", parts[1], parts[2]));
            b"235 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.mail_from = line[10..].trim().to_owned();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.rcpt_to.push(line[8..].trim().to_owned());
            b"250 ok\r\n"
        } else if upper == "DATA" {
            s.get_mut().write_all(b"354 go on\r\n").await.ok()?;
            loop {
                let mut d = String::new();
                if s.read_line(&mut d).await.ok()? == 0 {
                    return None;
                }
                if d == ".\r\n" {
                    break;
                }
                mail.data.push_str(d.strip_prefix('.').unwrap_or(&d));
            }
            let login = mail.login.clone();
            let _ = tx.send(std::mem::take(&mut mail));
            mail.login = login;
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            s.get_mut().write_all(b"221 bye\r\n").await.ok()?;
            return Some(());
        } else {
            b"250 ok\r\n"
        };
        s.get_mut().write_all(reply).await.ok()?;
    }
}
