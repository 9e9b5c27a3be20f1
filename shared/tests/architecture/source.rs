//! A reader of `shared/src` just deep enough for the architecture checks: it blanks comments,
//! string and character literals (so braces and paths inside them do not count), drops
//! `#[cfg(test)]` items, finds every `crate::…`, `super::…` and `self::…` path a module names,
//! and measures functions by their braces.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One source file: where it is, which module it is, and its code with comments, literals and
/// test items blanked (newlines kept, so line numbers hold).
pub struct SourceFile {
    /// The path under `src`, with `/` separators (`carts/entry.rs`).
    pub path: String,
    /// The module it holds (`["carts", "entry"]`; the crate root is `[]`).
    pub module: Vec<String>,
    /// Its line count, as written.
    pub lines: usize,
    /// The code outside tests, comments and literals blanked.
    pub code: String,
}

/// Every `.rs` file under `dir`, as (path relative to `dir`, text), sorted by path.
pub fn read_tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("a readable source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).expect("under the root");
                let name = relative.to_string_lossy().replace('\\', "/");
                out.push((
                    name,
                    std::fs::read_to_string(&path).expect("a readable file"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The module a file under `src` holds: `lib.rs` is the root, `a/mod.rs` is `a`, `a/b.rs` is
/// `a::b`.
pub fn module_of(path: &str) -> Vec<String> {
    let stem = path.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source files that are not tests: neither a `tests*.rs` file nor a module declared under
/// `#[cfg(test)]` (nor anything beneath one), with `#[cfg(test)]` items blanked.
pub fn non_test_files(tree: &[(String, String)]) -> Vec<SourceFile> {
    let mut test_modules: BTreeSet<Vec<String>> = BTreeSet::new();
    for (path, text) in tree {
        let module = module_of(path);
        for name in test_module_declarations(&blank_literals_and_comments(text)) {
            let mut m = module.clone();
            m.push(name);
            test_modules.insert(m);
        }
    }
    tree.iter()
        .filter(|(path, _)| {
            let file = path.rsplit('/').next().unwrap_or(path);
            !file.starts_with("tests")
        })
        .map(|(path, text)| (path, text, module_of(path)))
        .filter(|(_, _, module)| !test_modules.iter().any(|t| module.starts_with(t)))
        .map(|(path, text, module)| SourceFile {
            path: path.clone(),
            module,
            lines: text.lines().count(),
            code: blank_test_items(&blank_literals_and_comments(text)),
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with comments and string, byte-string, raw-string and character literals replaced by
/// spaces (newlines kept). Lifetimes stay.
pub fn blank_literals_and_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(chars.len())).skip(from) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && is_ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            let end = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if c == 'r' && !after_ident && matches!(next, Some('"') | Some('#')) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue;
            }
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = i + 2 + hashes;
            let end = (body..chars.len())
                .find(|&j| chars[j..].starts_with(&closing))
                .map_or(chars.len(), |j| j + closing.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' && next == Some('\\') {
            let end = (i + 3..chars.len())
                .find(|&j| chars[j] == '\'')
                .unwrap_or(chars.len());
            blank(&mut out, i, end + 1);
            i = end + 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            blank(&mut out, i, i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Where the item starting at or after `from` ends: after its `;` when it has no body, else
/// after the brace closing its body.
fn item_end(code: &[char], from: usize) -> usize {
    let mut depth = 0usize;
    let mut j = from;
    while j < code.len() {
        match code[j] {
            ';' if depth == 0 => return j + 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    code.len()
}

/// The (char) positions right after each `#[cfg(test)]` attribute.
fn cfg_test_ends(code: &[char]) -> Vec<usize> {
    let pattern: Vec<char> = "#[cfg(test)]".chars().collect();
    (0..code.len())
        .filter(|&i| code[i..].starts_with(&pattern))
        .map(|i| i + pattern.len())
        .collect()
}

/// `code` (already without comments and literals) with every `#[cfg(test)]` item blanked.
pub fn blank_test_items(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = chars.clone();
    for start in cfg_test_ends(&chars) {
        let end = item_end(&chars, start);
        for c in out.iter_mut().take(end).skip(start - "#[cfg(test)]".len()) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    }
    out.into_iter().collect()
}

/// The names of modules declared `#[cfg(test)] mod name;` (kept in their own files).
fn test_module_declarations(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    cfg_test_ends(&chars)
        .into_iter()
        .filter_map(|start| {
            let end = item_end(&chars, start);
            let item: String = chars[start..end].iter().collect();
            let words: Vec<&str> = item
                .split(|c: char| !is_ident(c))
                .filter(|w| !w.is_empty())
                .collect();
            let at = words.iter().position(|w| *w == "mod")?;
            item.trim_end()
                .ends_with(';')
                .then(|| words.get(at + 1).map(|w| (*w).to_owned()))
                .flatten()
        })
        .collect()
}

/// A path tree read at `at`: the leaf paths it names (`a::{b, c::d}` names `a::b` and
/// `a::c::d`; a glob or `self` in a group names its prefix), with where it ends.
fn read_tree_at(chars: &[char], mut at: usize) -> (Vec<Vec<String>>, usize) {
    let skip_space = |at: &mut usize| {
        while *at < chars.len() && chars[*at].is_whitespace() {
            *at += 1;
        }
    };
    let mut prefix: Vec<String> = Vec::new();
    loop {
        skip_space(&mut at);
        if chars.get(at) == Some(&'{') {
            let mut leaves = Vec::new();
            at += 1;
            loop {
                skip_space(&mut at);
                match chars.get(at) {
                    Some('}') | None => return (leaves, at + 1),
                    Some(',') => at += 1,
                    _ => {
                        let (inner, end) = read_tree_at(chars, at);
                        for leaf in inner {
                            let mut full = prefix.clone();
                            full.extend(leaf.into_iter().filter(|s| s != "self"));
                            leaves.push(full);
                        }
                        at = end;
                    }
                }
            }
        }
        if chars.get(at) == Some(&'*') {
            return (vec![prefix], at + 1);
        }
        let start = at;
        while at < chars.len() && is_ident(chars[at]) {
            at += 1;
        }
        if at == start {
            return (vec![prefix], at);
        }
        prefix.push(chars[start..at].iter().collect());
        skip_space(&mut at);
        if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

/// Every module-anchored path `code` names (`crate::…`, `super::…`, `self::…`, in `use` lines
/// and in expressions alike), resolved from `module` to a path from the crate root.
pub fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':');
        let anchored = ["crate", "super", "self"].iter().find(|w| {
            let w: Vec<char> = w.chars().collect();
            chars[i..].starts_with(&w)
                && chars.get(i + w.len()) == Some(&':')
                && chars.get(i + w.len() + 1) == Some(&':')
        });
        if !starts_word || anchored.is_none() {
            i += 1;
            continue;
        }
        let (leaves, end) = read_tree_at(&chars, i);
        for leaf in leaves {
            out.push(resolve(module, &leaf));
        }
        i = end.max(i + 1);
    }
    out
}

/// `path` as seen from `module`, from the crate root.
fn resolve(module: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

/// The names a parent module's own `use` lines bring in from its child modules (`pub use
/// http::OAuthHttp` in `oauth` maps `OAuthHttp` to `http`), so `super::OAuthHttp` in a sibling
/// counts as naming `http`.
fn names_from_children(
    parent: &SourceFile,
    children: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    let chars: Vec<char> = parent.code.chars().collect();
    let mut map = BTreeMap::new();
    let mut i = 0;
    while i + 4 < chars.len() {
        let is_use = chars[i..].starts_with(&['u', 's', 'e'])
            && chars[i + 3].is_whitespace()
            && (i == 0 || !is_ident(chars[i - 1]));
        if !is_use {
            i += 1;
            continue;
        }
        let (leaves, end) = read_tree_at(&chars, i + 4);
        for leaf in leaves {
            let leaf: Vec<&String> = leaf.iter().filter(|s| *s != "self").collect();
            if let (Some(first), Some(last)) = (leaf.first(), leaf.last()) {
                if children.contains(first.as_str()) && leaf.len() > 1 {
                    map.insert((*last).clone(), (*first).clone());
                }
            }
        }
        i = end.max(i + 1);
    }
    map
}

/// An import between two children of one module, with a file and path that make it.
pub struct Edge {
    /// The module the children belong to (`[]`: the crate's top-level modules).
    pub parent: Vec<String>,
    /// The importing child.
    pub from: String,
    /// The imported child.
    pub to: String,
    /// Where: the file and the path it names.
    pub evidence: String,
}

/// Every import between sibling modules, at every level: the top-level modules of the crate,
/// and the children of each module that has some.
pub fn sibling_edges(files: &[SourceFile]) -> Vec<Edge> {
    let mut children: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        for depth in 0..f.module.len() {
            children
                .entry(f.module[..depth].to_vec())
                .or_default()
                .insert(f.module[depth].clone());
        }
    }
    let mut edges = Vec::new();
    for (parent, kids) in &children {
        let reexports = files
            .iter()
            .find(|f| &f.module == parent)
            .map(|p| names_from_children(p, kids))
            .unwrap_or_default();
        for f in files.iter().filter(|f| f.module.len() > parent.len()) {
            if !f.module.starts_with(parent) {
                continue;
            }
            let from = &f.module[parent.len()];
            for path in named_paths(&f.module, &f.code) {
                if !path.starts_with(parent) || path.len() <= parent.len() {
                    continue;
                }
                let named = &path[parent.len()];
                let to = if kids.contains(named) {
                    Some(named.clone())
                } else {
                    reexports.get(named).cloned()
                };
                if let Some(to) = to.filter(|t| t != from) {
                    edges.push(Edge {
                        parent: parent.clone(),
                        from: from.clone(),
                        to,
                        evidence: format!("{} names {}", f.path, path.join("::")),
                    });
                }
            }
        }
    }
    edges
}

/// The groups of sibling modules that import one another, directly or through others (each
/// the members of a strongly connected component of more than one module), as
/// `parent:` then one `a -> b (evidence)` line per import among them.
pub fn cycles(edges: &[Edge]) -> Vec<String> {
    let mut by_parent: BTreeMap<&Vec<String>, Vec<&Edge>> = BTreeMap::new();
    for e in edges {
        by_parent.entry(&e.parent).or_default().push(e);
    }
    let mut found = Vec::new();
    for (parent, edges) in by_parent {
        let reach = |from: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.to_owned()];
            while let Some(m) = todo.pop() {
                for e in edges.iter().filter(|e| e.from == m) {
                    if seen.insert(e.to.clone()) {
                        todo.push(e.to.clone());
                    }
                }
            }
            seen
        };
        let mut reported: BTreeSet<String> = BTreeSet::new();
        for e in &edges {
            if reported.contains(&e.from) || !reach(&e.from).contains(&e.from) {
                continue;
            }
            let from_here = reach(&e.from);
            let group: BTreeSet<String> = from_here
                .iter()
                .filter(|m| reach(m).contains(&e.from))
                .cloned()
                .collect();
            let mut lines: Vec<String> = edges
                .iter()
                .filter(|x| group.contains(&x.from) && group.contains(&x.to))
                .map(|x| format!("{} -> {} ({})", x.from, x.to, x.evidence))
                .collect();
            lines.sort();
            lines.dedup();
            let at = if parent.is_empty() {
                "crate".to_owned()
            } else {
                parent.join("::")
            };
            found.push(format!("{at}:\n    {}", lines.join("\n    ")));
            reported.extend(group);
        }
    }
    found
}

/// Where the signature starting at `from` meets its body's `{` or its closing `;`, outside
/// parentheses and brackets (`[u8; 4]` in a parameter ends nothing).
fn body_or_end(chars: &[char], from: usize) -> Option<usize> {
    let mut nesting = 0usize;
    for (j, c) in chars.iter().enumerate().skip(from) {
        match c {
            '(' | '[' => nesting += 1,
            ')' | ']' => nesting = nesting.saturating_sub(1),
            '{' | ';' if nesting == 0 => return Some(j),
            _ => {}
        }
    }
    None
}

/// Each function of `code` with its name, first line (1-based) and length in lines, from its
/// `fn` to the brace closing its body (declarations without a body are left out).
pub fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let line_at = |at: usize| chars[..at].iter().filter(|&&c| c == '\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < chars.len() {
        let is_fn = chars[i] == 'f'
            && chars[i + 1] == 'n'
            && chars[i + 2].is_whitespace()
            && (i == 0 || !is_ident(chars[i - 1]));
        if !is_fn {
            i += 1;
            continue;
        }
        let name_start = (i + 2..chars.len())
            .find(|&j| !chars[j].is_whitespace())
            .unwrap_or(chars.len());
        let name: String = chars[name_start..]
            .iter()
            .take_while(|&&c| is_ident(c))
            .collect();
        let body = body_or_end(&chars, name_start);
        if let (false, Some(open)) = (name.is_empty(), body) {
            if chars[open] == '{' {
                let close = item_end(&chars, open);
                out.push((name, line_at(i), line_at(close - 1) - line_at(i) + 1));
            }
        }
        i += 2;
    }
    out
}

/// Whether `code` names the identifier `word`, or (when `word` ends in `_`) any identifier
/// starting with it.
pub fn names_identifier(code: &str, word: &str) -> bool {
    code.split(|c: char| !is_ident(c)).any(|ident| {
        if word.ends_with('_') {
            ident.starts_with(word)
        } else {
            ident == word
        }
    })
}
