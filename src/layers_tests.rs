//! The layers of the crate, enforced (ADR 0033): every top-level module of `src/` sits in
//! one layer of [`LAYERS`], and a module imports only modules of its own layer or of lower
//! ones, with no cycle between top-level modules. The test reads every `crate::` path in
//! `src/` (comments and test files skipped), maps each file to its top-level module and
//! lists every import that breaks the rule with its file and line.
//!
//! A new top-level module must be given a layer here, or the test fails; and the picture
//! of the layers in `README.md` (`## Design`) must match [`LAYERS`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import modules of its own layer or of any layer
/// below it; never one above.
const LAYERS: &[(&str, &[&str])] = &[
    ("vocabulary, time", &["model", "clock"]),
    (
        "small utilities",
        &["printable", "owner_only", "gate", "descriptors"],
    ),
    (
        "kernel seam, arithmetic of a baseline",
        &["cgroup", "baseline"],
    ),
    (
        "notification channels (configuration builds them)",
        &["channels"],
    ),
    ("configuration", &["config"]),
    ("history", &["store"]),
    (
        "what history and configuration say, decisions without I/O",
        &["stats", "scheduler", "retention", "jobfiles"],
    ),
    (
        "alert rules, runs, figures, views, job files from elsewhere",
        &[
            "alerts", "runner", "metrics", "views", "discover", "crontab",
        ],
    ),
    (
        "after a run, exports, how the daemon is asked, the forecast",
        &["followup", "export", "control", "plan"],
    ),
    ("HTTP server (the daemon starts it)", &["http"]),
    ("daemon", &["daemon"]),
    ("command line", &["cli"]),
];

/// One `crate::<module>` reference: where it is and what it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Import {
    /// The file, relative to `src/`.
    file: PathBuf,
    /// 1-based.
    line: usize,
    /// The top-level module of `file`.
    from: String,
    /// The top-level module named after `crate::`.
    to: String,
}

/// Whether `rel` (relative to `src/`) holds only tests: `tests.rs`, `*_tests.rs`, or a file
/// under a `tests/` folder. `lib.rs` and `main.rs` are the roots, not modules.
fn skipped(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let root = rel.components().count() == 1 && (name == "lib.rs" || name == "main.rs");
    root || name == "tests.rs"
        || name.ends_with("_tests.rs")
        || rel.components().any(|c| c.as_os_str() == "tests")
}

/// The top-level module a file of `src/` belongs to (`http/jobs.rs` -> `http`).
fn top_module(rel: &Path) -> String {
    let first = rel.components().next().expect("a path inside src/");
    let first = first.as_os_str().to_string_lossy();
    first.strip_suffix(".rs").unwrap_or(&first).to_owned()
}

/// The top-level modules named by the `crate::` paths of `text`: `crate::a::b` names `a`,
/// `crate::{a::X, b}` names `a` and `b`. Comments are skipped; a grouped `use` may span
/// lines, and is reported at the line where it starts.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code: Vec<&str> = text
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect();
    let joined = code.join("\n");
    let mut found = Vec::new();
    let mut rest = joined.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find("crate::") {
        let start = offset + at;
        let preceded = joined[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        let after = &joined[start + "crate::".len()..];
        let line = joined[..start].matches('\n').count() + 1;
        if !preceded {
            for name in first_segments(after) {
                found.push((line, name));
            }
        }
        offset = start + "crate::".len();
        rest = &joined[offset..];
    }
    found
}

/// The first path segment after `crate::`: one identifier, or each item of a `{...}` group.
fn first_segments(after: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
    };
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                let name = ident(&group[i..]);
                if !name.is_empty() {
                    names.push(name);
                }
            }
            _ => {}
        }
    }
    names
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The imports between top-level modules of the crate whose sources are in `src`, and the
/// top-level modules found.
fn imports(src: &Path) -> (Vec<Import>, BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    let mut modules = BTreeSet::new();
    for path in files {
        let rel = path.strip_prefix(src).expect("under src").to_path_buf();
        if skipped(&rel) {
            continue;
        }
        let from = top_module(&rel);
        modules.insert(from.clone());
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for (line, to) in crate_paths(&text) {
            if to != from {
                found.push(Import {
                    file: rel.clone(),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    (found, modules)
}

/// What breaks the rule in the crate at `src` under `layers`, one line each: a module
/// without a layer, a listed module that does not exist, an import of a higher layer, and
/// each cycle between top-level modules.
fn violations(src: &Path, layers: &[(&str, &[&str])]) -> Vec<String> {
    let layer_of: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, (_, modules))| modules.iter().map(move |m| (*m, i)))
        .collect();
    let (found, modules) = imports(src);
    let mut out = Vec::new();
    for module in &modules {
        if !layer_of.contains_key(module.as_str()) {
            out.push(format!(
                "src/{module}: top-level module `{module}` has no layer; add it to LAYERS in \
                 src/layers_tests.rs and to ADR 0033"
            ));
        }
    }
    for module in layer_of.keys() {
        if !modules.contains(*module) {
            out.push(format!(
                "LAYERS lists `{module}`, which is not a module of src/"
            ));
        }
    }
    let mut edges: BTreeMap<&str, BTreeMap<&str, &Import>> = BTreeMap::new();
    for import in &found {
        let (Some(&from), Some(&to)) = (
            layer_of.get(import.from.as_str()),
            layer_of.get(import.to.as_str()),
        ) else {
            continue;
        };
        if to > from {
            out.push(format!(
                "src/{}:{}: `{}` (layer {from}, {}) imports `{}` (layer {to}, {}), a higher layer",
                import.file.display(),
                import.line,
                import.from,
                layers[from].0,
                import.to,
                layers[to].0,
            ));
        }
        edges
            .entry(import.from.as_str())
            .or_default()
            .entry(import.to.as_str())
            .or_insert(import);
    }
    out.extend(cycles(&edges));
    out
}

/// Each cycle between modules, found once from its smallest module, with the first import
/// of each step.
fn cycles(edges: &BTreeMap<&str, BTreeMap<&str, &Import>>) -> Vec<String> {
    fn walk<'a>(
        edges: &BTreeMap<&'a str, BTreeMap<&'a str, &'a Import>>,
        start: &'a str,
        path: &mut Vec<&'a Import>,
        out: &mut Vec<String>,
    ) {
        let here = path.last().map_or(start, |i| i.to.as_str());
        for (&next, &import) in edges.get(here).into_iter().flatten() {
            if next == start {
                let steps: Vec<String> = path
                    .iter()
                    .chain([&import])
                    .map(|i| {
                        format!(
                            "{} -> {} (src/{}:{})",
                            i.from,
                            i.to,
                            i.file.display(),
                            i.line
                        )
                    })
                    .collect();
                out.push(format!("cycle: {}", steps.join(", ")));
            } else if next > start && !path.iter().any(|i| i.from == next) {
                path.push(import);
                walk(edges, start, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for &start in edges.keys() {
        walk(edges, start, &mut Vec::new(), &mut out);
    }
    out
}

#[test]
fn top_level_modules_import_only_their_layer_and_below_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let broken = violations(&src, LAYERS);
    assert!(
        broken.is_empty(),
        "the module layers are broken (ADR 0033):\n{}",
        broken.join("\n")
    );
}

#[test]
fn an_upward_import_a_cycle_and_an_unplaced_module_are_each_reported() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod low;\npub mod high;\n");
    write(
        "low.rs",
        "//! use crate::high in a comment is no import\n\nuse crate::high::Up;\n",
    );
    write("high/mod.rs", "use crate::{low::Down, model};\n");
    write("high/peer.rs", "fn f() { crate::side::g() }\n");
    write("side.rs", "use crate::high::X;\n");
    write("high/tests.rs", "use crate::nowhere;\n");
    write("model.rs", "");
    let layers: &[(&str, &[&str])] = &[("bottom", &["model", "low"]), ("top", &["high", "side"])];
    assert_eq!(
        violations(src, layers),
        [
            "src/low.rs:3: `low` (layer 0, bottom) imports `high` (layer 1, top), a higher layer",
            "cycle: high -> low (src/high/mod.rs:1), low -> high (src/low.rs:3)",
            "cycle: high -> side (src/high/peer.rs:1), side -> high (src/side.rs:1)",
        ]
    );
    write("extra.rs", "");
    assert_eq!(
        violations(src, &[("all", &["model", "low", "high", "side", "gone"])]),
        [
            "src/extra: top-level module `extra` has no layer; add it to LAYERS in \
             src/layers_tests.rs and to ADR 0033",
            "LAYERS lists `gone`, which is not a module of src/",
            "cycle: high -> low (src/high/mod.rs:1), low -> high (src/low.rs:3)",
            "cycle: high -> side (src/high/peer.rs:1), side -> high (src/side.rs:1)",
        ]
    );
}

/// The layers the picture under `## Design` in `readme` draws, lowest first: a line of
/// module names indented by one space starts a layer, one indented by three continues it,
/// and a run of three spaces ends the names (the description follows).
fn readme_layers(readme: &str) -> Vec<Vec<String>> {
    let design = readme.split("## Design").nth(1).unwrap_or_default();
    let picture = design.split("```").nth(1).unwrap_or_default();
    let mut layers: Vec<Vec<String>> = Vec::new();
    for line in picture.lines() {
        let indent = line.len() - line.trim_start().len();
        let names = line.trim_start().split("   ").next().unwrap_or_default();
        let names = names.split_whitespace().map(str::to_owned);
        match indent {
            1 => layers.push(names.collect()),
            3 => layers
                .last_mut()
                .expect("a layer to continue")
                .extend(names),
            _ => {}
        }
    }
    layers.reverse();
    layers
}

#[test]
fn the_readme_draws_the_layers_the_test_enforces() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let enforced: Vec<Vec<String>> = LAYERS
        .iter()
        .map(|(_, modules)| modules.iter().map(|m| (*m).to_owned()).collect())
        .collect();
    assert_eq!(
        readme_layers(&readme),
        enforced,
        "README.md's picture under `## Design` differs from LAYERS (ADR 0033)"
    );
    let drawn = "## Design\n\n```\n b   top\n a  c   middle\n   d\n model\n```\n";
    assert_eq!(
        readme_layers(drawn),
        [vec!["model"], vec!["a", "c", "d"], vec!["b"]]
    );
}
