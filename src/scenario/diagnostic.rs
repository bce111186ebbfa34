//! Problems found in a scenario file, each with the file, line and column it points at.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub path: String,
    /// One-based line number.
    pub line: usize,
    /// One-based column, counted in characters.
    pub column: usize,
    /// What is wrong and, where known, what would be valid. Lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// Problems of one kind printed before the rest are summarised in one line, as compilers cap
/// repeated errors: a file with 40,000 copies of one mistake shows 50 and a count of the others.
pub const SHOWN_PER_KIND: usize = 50;

/// Every problem found in one file, in file order. The list is always complete; only what is
/// printed ([`Diagnostics::lines`], `Display`) is capped at [`SHOWN_PER_KIND`] of a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The lines to print: every problem, except that after the first [`SHOWN_PER_KIND`] of a
    /// kind (the same message up to the ids, values and numbers it quotes) one line says how
    /// many more of that kind there are. The counts are exact.
    pub fn lines(&self) -> Vec<String> {
        let kinds: Vec<String> = self.0.iter().map(|d| kind(&d.message)).collect();
        let mut total: HashMap<&str, usize> = HashMap::new();
        for k in &kinds {
            *total.entry(k.as_str()).or_default() += 1;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::new();
        for (d, k) in self.0.iter().zip(&kinds) {
            let n = seen.entry(k.as_str()).or_default();
            *n += 1;
            if *n <= SHOWN_PER_KIND {
                out.push(d.to_string());
            }
            let all = total[k.as_str()];
            if *n == SHOWN_PER_KIND && all > SHOWN_PER_KIND {
                out.push(format!(
                    "{}: … and {} more of the same kind ({} problems in this file in all)",
                    d.path,
                    grouped(all - SHOWN_PER_KIND),
                    grouped(self.0.len())
                ));
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines().iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The kind of a message: its text with what it quotes (`"…"`, `` `…` ``) and its numbers left
/// out, so that the same mistake about different ids or values is one kind.
fn kind(message: &str) -> String {
    let message = message.split("; did you mean").next().unwrap_or(message);
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    let mut in_number = false;
    for ch in message.chars() {
        match quote {
            Some(q) if ch == q => {
                quote = None;
                out.push(ch);
            }
            Some(_) => {}
            None if ch == '"' || ch == '`' => {
                quote = Some(ch);
                out.push(ch);
            }
            None if ch.is_ascii_digit() => {
                if !in_number {
                    out.push('#');
                }
                in_number = true;
                continue;
            }
            None => out.push(ch),
        }
        in_number = false;
    }
    out
}

/// `n` with a comma between each group of three digits.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where each line of a source text starts, built once per file: the line of a byte offset is
/// a binary search, not a scan of everything before it.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// Zero-based line of a byte offset.
    fn line_index(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// One-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.line_index(offset) + 1
    }

    /// One-based line and character column of a byte offset in `source`.
    #[cfg(test)]
    fn line_column(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = char_boundary(source, offset);
        let line = self.line_index(offset);
        let column = source[self.starts[line]..offset].chars().count() + 1;
        (line + 1, column)
    }
}

/// `offset` moved into `source` and back to the start of the character it falls in.
fn char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Collects diagnostics for one source text, turning byte spans into line and column once, at
/// the end, in one pass over the problems sorted by position: the cost grows with the file's
/// size plus the number of problems, never with their product.
pub(crate) struct Collector<'a> {
    path: &'a str,
    source: &'a str,
    lines: LineIndex,
    found: Vec<(usize, String)>,
    /// Suggestions computed so far (see [`Collector::hint`]).
    hints: std::cell::Cell<usize>,
}

/// Most "did you mean" suggestions computed for one file: each compares a word with every
/// candidate, so a file of many thousands of unknown names among many thousands of ids gets
/// suggestions for its first problems only, and validation stays fast.
const MAX_HINTS: usize = 1000;

impl<'a> Collector<'a> {
    pub(crate) fn new(path: &'a str, source: &'a str) -> Self {
        Collector {
            path,
            source,
            lines: LineIndex::new(source),
            found: Vec::new(),
            hints: std::cell::Cell::new(0),
        }
    }

    /// Records a problem at the start of `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let offset = char_boundary(self.source, span.start);
        self.found.push((offset, message.into()));
    }

    /// `; did you mean "x"?` or nothing, as [`did_you_mean`], for the first [`MAX_HINTS`]
    /// suggestions of this file; nothing after.
    pub(crate) fn hint<'c>(
        &self,
        word: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> String {
        let given = self.hints.get();
        if given >= MAX_HINTS {
            return String::new();
        }
        self.hints.set(given + 1);
        did_you_mean(word, candidates)
    }

    /// One-based line of a byte offset in this source.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.lines.line(char_boundary(self.source, offset))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// How many problems have been recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.found.len()
    }

    /// The source text problems are reported in.
    pub(crate) fn source(&self) -> &'a str {
        self.source
    }

    /// All problems, sorted by position (stable for problems at the same place).
    pub(crate) fn finish(mut self) -> Diagnostics {
        self.found.sort_by_key(|(offset, _)| *offset);
        // Columns are counted forward from the previous problem when it is on the same line, so
        // many problems on one long line cost one pass over that line.
        let mut at: Option<(usize, usize, usize)> = None; // (line index, offset, column)
        let mut out = Vec::with_capacity(self.found.len());
        for (offset, message) in self.found {
            let line = self.lines.line_index(offset);
            let column = match at {
                Some((l, from, column)) if l == line => {
                    column + self.source[from..offset].chars().count()
                }
                _ => self.source[self.lines.starts[line]..offset].chars().count() + 1,
            };
            at = Some((line, offset, column));
            out.push(Diagnostic {
                path: self.path.to_owned(),
                line: line + 1,
                column,
                message,
            });
        }
        Diagnostics(out)
    }
}

/// The closest of `candidates` to `word`, if any is close enough to be a likely typo.
pub(crate) fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean "x"?` or nothing.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    suggest(word, candidates)
        .map(|s| format!("; did you mean \"{s}\"?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = 2\n";
        let index = LineIndex::new(src);
        let line_column = |offset| index.line_column(src, offset);
        assert_eq!(line_column(0), (1, 1));
        assert_eq!(line_column(6), (2, 1));
        // 'é' is two bytes; the '=' after "bé " is the 4th character.
        assert_eq!(line_column(src.find('=').unwrap()), (1, 3));
        let second_eq = src.rfind('=').unwrap();
        assert_eq!(line_column(second_eq), (2, 4));
        // Inside 'é' counts as 'é'; past the end is the end.
        assert_eq!(line_column(8), (2, 2));
        assert_eq!(line_column(99), (3, 1));
    }

    #[test]
    fn problems_on_one_line_get_the_columns_a_rescan_would_give() {
        let src = "x = [\"é\", \"a\", \"é\"]\ny = 1\n";
        let mut c = Collector::new("f.toml", src);
        let offsets: Vec<usize> = src.match_indices('"').map(|(i, _)| i).collect();
        for &o in offsets.iter().rev() {
            c.error(o..o, "m");
        }
        c.error(src.find('y').unwrap()..0, "y");
        let index = LineIndex::new(src);
        let got: Vec<(usize, usize)> = c.finish().0.iter().map(|d| (d.line, d.column)).collect();
        let mut want: Vec<(usize, usize)> =
            offsets.iter().map(|&o| index.line_column(src, o)).collect();
        want.push((2, 1));
        assert_eq!(got, want);
        assert_eq!(got[..3], [(1, 6), (1, 8), (1, 11)]);
    }

    #[test]
    fn repeated_problems_are_capped_in_print_but_counted_exactly() {
        let d = |line: usize, message: &str| Diagnostic {
            path: "f.toml".into(),
            line,
            column: 1,
            message: message.into(),
        };
        let mut all: Vec<Diagnostic> = (0..SHOWN_PER_KIND + 1234)
            .map(|i| {
                d(
                    i + 1,
                    &format!("technique \"t{i}\": success {i} is outside [0, 1]"),
                )
            })
            .collect();
        all.push(d(99_999, "no technique for phase \"delivery\""));
        let lines = Diagnostics(all).lines();
        assert_eq!(lines.len(), SHOWN_PER_KIND + 2);
        assert_eq!(
            lines[SHOWN_PER_KIND],
            "f.toml: … and 1,234 more of the same kind (1,285 problems in this file in all)"
        );
        assert_eq!(
            lines[0],
            "f.toml:1:1: technique \"t0\": success 0 is outside [0, 1]"
        );
        assert_eq!(
            lines[SHOWN_PER_KIND + 1],
            "f.toml:99999:1: no technique for phase \"delivery\""
        );
        assert_eq!(kind("a \"x\" 12 b `y` 3.5"), "a \"\" # b `` #.#");
    }

    #[test]
    fn suggestions_catch_typos_but_not_unrelated_words() {
        let phases = ["delivery", "exploitation", "installation"];
        assert_eq!(suggest("deliver", phases), Some("delivery"));
        assert_eq!(suggest("instalation", phases), Some("installation"));
        assert_eq!(suggest("zzz", phases), None);
    }
}
