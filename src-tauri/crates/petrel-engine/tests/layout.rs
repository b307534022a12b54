//! The engine's layout, checked rather than described: the protocol is chosen only under
//! `account/`, the modules import each other without cycles, and `Engine` keeps no
//! per-account state beside its registry.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The file's text without `//` comments and without its `#[cfg(test)]` module (tests may
/// use anything).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to ("account" for src/account/imap/mod.rs).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn only_the_account_module_asks_which_protocol_an_account_speaks() {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        if module_of(&file) == "account" {
            continue;
        }
        let code = code_of(&file);
        for needle in [
            "is_pop3",
            "IncomingProtocol::",
            "Account::Imap",
            "Account::Pop3",
        ] {
            if code.contains(needle) {
                found.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "protocol branches outside account/: {found:#?}"
    );
}

#[test]
fn engine_modules_import_each_other_without_cycles() {
    let lib = code_of(&src().join("lib.rs"));
    let modules: BTreeSet<String> = rust_files(&src())
        .iter()
        .map(|f| module_of(f))
        .filter(|m| m != "lib" && m != "bin")
        .collect();
    // Names re-exported by lib.rs ("crate::Engine") stand for their module.
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    for line in lib
        .lines()
        .filter(|l| l.trim_start().starts_with("pub use "))
    {
        let rest = line.trim_start().trim_start_matches("pub use ");
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        let module = module.to_string();
        if !modules.contains(&module) {
            continue;
        }
        let names = names.trim_end_matches(';');
        let names = names.rsplit("::").next().unwrap_or(names);
        for name in names.trim_matches(['{', '}']).split(',') {
            exported.insert(name.trim().to_string(), module.clone());
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let from = module_of(&file);
        if !modules.contains(&from) {
            continue;
        }
        let code = code_of(&file);
        let mut targets = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for name in group.split(',') {
                    let name = name.trim().split("::").next().unwrap_or("").trim();
                    targets.extend(modules.get(name).cloned());
                    targets.extend(exported.get(name).cloned());
                }
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            targets.extend(modules.get(&name).cloned());
            targets.extend(exported.get(&name).cloned());
        }
        targets.remove(&from);
        edges.entry(from).or_default().extend(targets);
    }
    // Depth-first search for a cycle, reporting its path.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let (mut stack, mut done) = (Vec::new(), BTreeSet::new());
    for module in &modules {
        if let Some(cycle) = visit(module, &edges, &mut stack, &mut done) {
            panic!("module cycle: {}\nedges: {edges:#?}", cycle.join(" → "));
        }
    }
    // The accounts never reach the engine, the views or sending.
    for lower in ["account", "shared", "events", "error"] {
        for upper in ["engine", "views", "outgoing", "watch"] {
            assert!(
                !edges.get(lower).is_some_and(|t| t.contains(upper)),
                "{lower} imports {upper}"
            );
        }
    }
}

#[test]
fn the_engine_keeps_no_per_account_map_beside_its_registry() {
    let code = code_of(&src().join("engine.rs"));
    let start = code.find("pub struct Engine {").unwrap();
    let fields = &code[start..start + code[start..].find("\n}").unwrap()];
    let keyed: Vec<&str> = fields
        .lines()
        .filter(|l| l.contains("AccountId") || l.contains("FolderRef"))
        .collect();
    assert!(keyed.is_empty(), "per-account fields on Engine: {keyed:?}");
    assert!(fields.contains("accounts: RwLock<Vec<Arc<Account>>>"));
}
