//! The API token: 32 random bytes from the OS as 64 lowercase hex characters in
//! `state_dir/api.token`, mode 0600, made by the daemon on its first start and read by
//! `slotcron token`. [`ApiToken::matches`] compares in constant time (`subtle`), so the
//! time an answer takes says nothing about how much of a guess was right.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

/// The token file's name in `state_dir`.
pub const TOKEN_FILE: &str = "api.token";

/// A token read from or written to the token file; its text is 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

/// The token file could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}: not a slotcron token (expected 64 hex characters); delete it to get a new one"
    )]
    Malformed { path: PathBuf },
    #[error("no random bytes from the OS: {0}")]
    Random(String),
}

impl ApiToken {
    /// Parses a token file's text (trailing whitespace allowed).
    pub fn parse(text: &str) -> Option<ApiToken> {
        let text = text.trim_end();
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ApiToken(text.to_ascii_lowercase()))
    }

    /// A new token from the OS's random source.
    ///
    /// # Errors
    /// [`TokenError::Random`] when the OS gives no random bytes.
    pub fn generate() -> Result<ApiToken, TokenError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        Ok(ApiToken(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        // Lengths are not secret (every token has 64 characters); contents are.
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// Reads `state_dir/api.token`.
///
/// # Errors
/// The file cannot be read or is not a token.
pub fn read(state_dir: &Path) -> Result<ApiToken, TokenError> {
    let path = state_dir.join(TOKEN_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| TokenError::Io {
        path: path.clone(),
        source,
    })?;
    ApiToken::parse(&text).ok_or(TokenError::Malformed { path })
}

/// Reads `state_dir/api.token`, or creates it (mode 0600, never replacing a file another
/// process made meanwhile) when it is absent.
///
/// # Errors
/// The file cannot be created or read, or is not a token.
pub fn load_or_create(state_dir: &Path) -> Result<ApiToken, TokenError> {
    let path = state_dir.join(TOKEN_FILE);
    let token = ApiToken::generate()?;
    let io = |source| TokenError::Io {
        path: path.clone(),
        source,
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            writeln!(file, "{}", token.as_str()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(token)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read(state_dir),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_file_is_made_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let made = load_or_create(dir.path()).unwrap();
        assert_eq!(made.as_str().len(), 64);
        assert!(
            made.as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            load_or_create(dir.path()).unwrap(),
            made,
            "kept, not replaced"
        );
        assert_eq!(read(dir.path()).unwrap(), made);
        assert_ne!(ApiToken::generate().unwrap(), made);
    }

    #[test]
    fn a_malformed_file_is_refused_by_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TOKEN_FILE), "hunter2\n").unwrap();
        let err = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("api.token") && err.contains("64 hex"), "{err}");
    }

    #[test]
    fn matching_is_exact() {
        let token = ApiToken::parse(&"ab".repeat(32)).unwrap();
        assert!(token.matches(&"ab".repeat(32)));
        assert!(!token.matches(&format!("{}ac", "ab".repeat(31))));
        assert!(!token.matches(&"ab".repeat(31)));
        assert!(!token.matches(""));
        assert!(!token.matches(&"ab".repeat(33)));
        assert_eq!(format!("{token:?}"), "ApiToken(..)", "never logged");
    }
}
