//! The dashboard's files: every entry of the embedded table
//! (`slotcron::http::assets::ASSETS`) served by a real daemon with its type and headers, an
//! unknown one a 404, and the page's module graph closed: each `import ... from '...'` in a
//! served module, and each file the page names, resolves to an entry of the table, and
//! every entry is reached from the page. A module added without its table entry fails here.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use slotcron::http::assets::{ASSETS, INDEX, JAVASCRIPT};

use super::{addr, get, request};
use crate::helper::Sandbox;

#[test]
fn each_dashboard_file_is_served_with_its_type_and_headers() {
    let sb = Sandbox::new("");
    let _daemon = sb.daemon();
    let a = addr(&sb);
    let page = ("", "text/html; charset=utf-8", INDEX);
    for (path, content_type, body) in std::iter::once(&page).chain(ASSETS) {
        let url = if path.is_empty() {
            "/".to_owned()
        } else {
            format!("/assets/{path}")
        };
        let file = get(&a, &url);
        assert_eq!(file.status, 200, "{url}");
        assert_eq!(file.header("content-type"), Some(*content_type), "{url}");
        assert_eq!(file.header("cache-control"), Some("no-cache"), "{url}");
        assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
        assert!(
            file.header("content-security-policy")
                .unwrap()
                .contains("script-src 'self'"),
            "{url}"
        );
        assert_eq!(file.body, *body, "{url}");
    }
    // The page names its files relatively, so it also works under a reverse proxy's
    // sub-path (docs/adr/0018-dashboard.md), and loads the entry as a module.
    let index = get(&a, "/").body;
    assert!(
        index.contains(r#"<script type="module" src="assets/js/app.js"></script>"#),
        "{index}"
    );
    assert!(index.contains(r#"href="assets/app.css""#), "{index}");
    let modules = ASSETS.iter().filter(|(_, t, _)| *t == JAVASCRIPT).count();
    assert!(modules >= 12, "{modules} modules");

    // The single file of before the split, a missing module, a folder, a way out.
    for url in [
        "/assets/app.js",
        "/assets/js/nope.js",
        "/assets/js/views",
        "/assets/js/../../Cargo.toml",
        "/assets/",
    ] {
        let answer = request(&a, "GET", url, &[], b"");
        assert_eq!(answer.status, 404, "{url}: {}", answer.body);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("text/plain"),
            "{url}"
        );
    }
    let missing = get(&a, "/assets/js/nope.js");
    assert_eq!(missing.body, "no dashboard file assets/js/nope.js\n");
}

/// `import x from './a.js'`, `import { a, b } from '../b.js'`, `import './c.js'`,
/// `export { x } from './d.js'`: the specifier.
static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*(?:import|export)\s+(?:[^;'"]*?\sfrom\s*)?['"]([^'"]+)['"]"#).unwrap()
});
/// `src="assets/..."` and `href="assets/..."` in the page.
static PAGE_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:src|href)="assets/([^"]+)""#).unwrap());

/// `specifier` as a path of the table, seen from the module at `from`; None for a bare or
/// absolute specifier (the browser resolves neither against `/assets/` without an import
/// map) or one that climbs out of `/assets/`.
fn resolve(from: &str, specifier: &str) -> Option<String> {
    if !(specifier.starts_with("./") || specifier.starts_with("../")) {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop(); // the module's own file name
    for part in specifier.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

/// Walks the module graph from the page over `table`: what every import and page reference
/// that misses the table is ("<importer> -> <specifier>"), and which entries were reached.
fn walk(page: &str, table: &[(&str, &str, &str)]) -> (Vec<String>, BTreeSet<String>) {
    let body_of = |path: &str| table.iter().find(|(p, _, _)| *p == path).map(|e| e.2);
    let mut unresolved = Vec::new();
    let mut reached = BTreeSet::new();
    let mut queue: Vec<(String, String)> = PAGE_FILE
        .captures_iter(page)
        .map(|c| ("index.html".to_owned(), c[1].to_owned()))
        .collect();
    while let Some((importer, path)) = queue.pop() {
        let Some(body) = body_of(&path) else {
            unresolved.push(format!("{importer} -> {path}"));
            continue;
        };
        if !reached.insert(path.clone()) || !path.ends_with(".js") {
            continue;
        }
        for specifier in IMPORT.captures_iter(body).map(|c| c[1].to_owned()) {
            match resolve(&path, &specifier) {
                Some(target) => queue.push((path.clone(), target)),
                None => unresolved.push(format!("{path} -> {specifier}")),
            }
        }
    }
    (unresolved, reached)
}

#[test]
fn every_import_of_the_served_modules_resolves_to_a_served_file() {
    let (unresolved, reached) = walk(INDEX, ASSETS);
    assert_eq!(unresolved, Vec::<String>::new());
    let listed: BTreeSet<String> = ASSETS.iter().map(|(p, _, _)| p.to_string()).collect();
    assert_eq!(
        reached, listed,
        "entries of the table no page or module uses"
    );

    // The regex sees the entry's imports (all nine) ...
    let app = ASSETS.iter().find(|(p, _, _)| *p == "js/app.js").unwrap().2;
    assert_eq!(IMPORT.captures_iter(app).count(), 9);
    // ... and the walk fails when the table lacks a module that is imported.
    let short: Vec<_> = ASSETS
        .iter()
        .copied()
        .filter(|(p, _, _)| *p != "js/chart.js")
        .collect();
    let (unresolved, _) = walk(INDEX, &short);
    assert_eq!(unresolved, ["js/views/job.js -> js/chart.js"]);
}

#[test]
fn import_specifiers_resolve_like_the_browser_does() {
    assert_eq!(
        resolve("js/views/job.js", "../dom.js").as_deref(),
        Some("js/dom.js")
    );
    assert_eq!(
        resolve("js/app.js", "./views/job.js").as_deref(),
        Some("js/views/job.js")
    );
    assert_eq!(resolve("js/app.js", "../../x.js"), None);
    assert_eq!(resolve("js/app.js", "dom.js"), None);
    assert_eq!(resolve("js/app.js", "/assets/js/dom.js"), None);
    let text = "import { a,\n  b } from './a.js';\nimport './b.js';\nexport { c } from \"../c.js\";\n\
                // the router imports this module, not the other way round\n";
    let found: Vec<_> = IMPORT
        .captures_iter(text)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(found, ["./a.js", "./b.js", "../c.js"]);
}
