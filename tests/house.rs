//! The house in order, checked on the tree: no source file over 500 lines, no import circle
//! between modules (except among the GraphQL object types, which refer to each other because
//! the schema does), and a map of the source tree (`docs/layout.md`) that names every module.
//! `scripts/house` prints what this test sees: the longest files and every circle.
//!
//! The import graph is read from the source text: every `crate::…` and `super::…` path (in
//! `use` lines, groups included, and in code) is an arrow from the file it is written in to the
//! deepest module it names. Test modules (`#[cfg(test)] mod tests`) are left out, and an arrow
//! from a module to one of its own ancestors (a child using its parent's items) is not a circle.

// A failed expectation in a test should panic with its message: that is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most lines a source file may have.
const MAX_LINES: usize = 500;

type Module = Vec<String>;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file holds, e.g. `src/graphql/admission/mod.rs` → `graphql::admission`.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a text names after `crate::` or `super::`, groups expanded one level deep.
fn paths(text: &str) -> Vec<(bool, Vec<String>)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let is_super = root == "super::";
            let rest = &text[from..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    found.push((is_super, split_path(item.trim())));
                }
            } else {
                found.push((is_super, split_path(rest)));
            }
        }
    }
    found
}

fn split_path(text: &str) -> Vec<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

struct Tree {
    files: BTreeMap<Module, PathBuf>,
    lines: BTreeMap<Module, usize>,
    arrows: BTreeMap<Module, BTreeSet<Module>>,
}

fn tree() -> Tree {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut list = Vec::new();
    sources(&src, &mut list);
    // The binary's entry point is not a module of the library.
    list.retain(|f| f.file_name().is_none_or(|n| n != "main.rs"));
    let mut files = BTreeMap::new();
    let mut texts = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for file in list {
        let module = module_of(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        lines.insert(module.clone(), text.lines().count());
        let code = match text.find("#[cfg(test)]\n") {
            Some(at) if text[at..].contains("mod tests") => text[..at].to_owned(),
            _ => text,
        };
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        texts.insert(module.clone(), (file.clone(), code));
        files.insert(module, file);
    }
    let mut arrows: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, (file, code)) in &texts {
        let is_mod_file = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        // `super` of a `mod.rs` is its module's parent; of `a/b.rs`, module `a`.
        let parent: Module = if is_mod_file || module.is_empty() {
            module[..module.len().saturating_sub(1)].to_vec()
        } else {
            module[..module.len() - 1].to_vec()
        };
        for (is_super, path) in paths(code) {
            let base = if is_super { parent.clone() } else { Vec::new() };
            let target = (1..=path.len()).rev().find_map(|n| {
                let mut candidate = base.clone();
                candidate.extend(path[..n].iter().cloned());
                files.contains_key(&candidate).then_some(candidate)
            });
            let Some(target) = target else { continue };
            let ancestor = target.len() < module.len() && module[..target.len()] == target[..];
            if target != *module && !ancestor {
                arrows.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    Tree {
        files,
        lines,
        arrows,
    }
}

/// The strongly connected groups of more than one module (Tarjan).
fn circles(arrows: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        arrows: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        let arrows = s.arrows;
        for w in arrows.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        arrows,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in arrows.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// The arrows between top-level modules (`http` → `graphql`, …).
fn top_level(arrows: &BTreeMap<Module, BTreeSet<Module>>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut top: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, tos) in arrows {
        for to in tos {
            if let (Some(a), Some(b)) = (from.first(), to.first())
                && a != b
            {
                top.entry(vec![a.clone()])
                    .or_default()
                    .insert(vec![b.clone()]);
            }
        }
    }
    top
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// GraphQL object types refer to each other because the schema does (a city has coverage, a
/// coverage record has a city): a circle among them alone is the schema's, not a tangle.
fn schema_circle(group: &[Module]) -> bool {
    group.iter().all(|m| {
        m.len() == 2
            && m[0] == "graphql"
            && !matches!(
                m[1].as_str(),
                "admission" | "error" | "loaders" | "mutation" | "subscription"
            )
    })
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let tree = tree();
    let mut longest: Vec<_> = tree.lines.iter().collect();
    longest.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    println!("longest files:");
    for (module, n) in longest.iter().take(10) {
        println!("  {n:>4}  {}", tree.files[*module].display());
    }
    let over: Vec<_> = longest.iter().filter(|(_, n)| **n > MAX_LINES).collect();
    assert!(
        over.is_empty(),
        "files over {MAX_LINES} lines: {:?}",
        over.iter()
            .map(|(m, n)| format!("{} ({n})", tree.files[*m].display()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn no_module_imports_in_a_circle_but_the_schema_s_object_types() {
    let tree = tree();
    let top = circles(&top_level(&tree.arrows));
    let files = circles(&tree.arrows);
    println!("circles between top-level modules: {}", top.len());
    for group in &top {
        println!(
            "  {}",
            group.iter().map(name).collect::<Vec<_>>().join(" ↔ ")
        );
    }
    println!("circles between files: {}", files.len());
    for group in &files {
        let allowed = if schema_circle(group) {
            " (the schema's object types)"
        } else {
            ""
        };
        println!(
            "  {}{allowed}",
            group.iter().map(name).collect::<Vec<_>>().join(" ↔ ")
        );
    }
    assert!(top.is_empty(), "top-level modules in a circle: {top:?}");
    let tangled: Vec<_> = files.iter().filter(|g| !schema_circle(g)).collect();
    assert!(tangled.is_empty(), "files in a circle: {tangled:?}");
}

#[test]
fn the_crate_map_names_every_top_level_module() {
    let tree = tree();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let missing: Vec<String> = tree
        .files
        .keys()
        .filter(|m| m.len() == 1 && m[0] != "main")
        .map(|m| m[0].clone())
        .filter(|m| !lib.contains(&format!("//! - [`{m}`]")))
        .collect();
    assert!(
        missing.is_empty(),
        "the crate map in src/lib.rs does not name {missing:?}"
    );
}

#[test]
fn the_map_of_the_source_tree_names_every_module() {
    let tree = tree();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("docs/layout.md")).unwrap();
    let missing: Vec<String> = tree
        .files
        .values()
        .map(|file| {
            file.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|path| !map.contains(&format!("`{path}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/layout.md does not name {missing:?}: add a line for each"
    );
}

/// The pages' words (`web/assets/common.js`, `WORDS`) name each key once per language: a second
/// entry would silently win over the first, so one of two words for the same thing was dead.
#[test]
fn the_pages_words_name_each_key_once_per_language() {
    let text = std::fs::read_to_string("web/assets/common.js").unwrap();
    let words = &text[text.find("const WORDS").expect("WORDS in common.js")..];
    let mut twice = Vec::new();
    let mut language: Option<(&str, BTreeSet<&str>)> = None;
    for line in words.lines() {
        if line.starts_with("};") {
            break;
        }
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(": {")) {
            language = Some((name, BTreeSet::new()));
        } else if let (Some((name, keys)), Some(entry)) = (&mut language, line.strip_prefix("    "))
            && let Some((key, _)) = entry.split_once(':')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !keys.insert(key)
        {
            twice.push(format!("{name}.{key}"));
        }
    }
    assert!(language.is_some(), "no language found in WORDS");
    assert_eq!(twice, Vec::<String>::new(), "keys given twice");
}
