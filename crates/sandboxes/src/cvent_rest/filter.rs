//! Cvent's `filter` query grammar: parsing, field checks and evaluation against records.
//!
//! The grammar accepted, as Cvent's public OpenAPI spec describes it
//! (`filter='field' comparisonType 'value'`, operators, quoting rules and examples):
//!
//! ```text
//! filter      := disjunction
//! disjunction := conjunction ( "or" conjunction )*
//! conjunction := primary ( "and" primary )*
//! primary     := "(" disjunction ")" | condition
//! condition   := field ( eq | ne | gt | ge | lt | le | sw | ew | co | contains | match ) value
//!              | field "in" "(" value ( "," value )* ")"
//!              | field "is" [ "not" ] ( "null" | "empty" )
//! field       := dotted.path | 'dotted.path'
//! value       := '…' | "…" | true | false | number
//! ```
//!
//! Keywords are case-insensitive (third-party clients send `AND`); field names are not. `not`
//! is not part of Cvent's grammar and is refused with a pointer to `ne` / `is not …`.
//!
//! Literals are analysed once at parse time (lower-cased text, instant, number) so that
//! evaluating a filter over a million generated records allocates nothing in the common cases.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A value read from a record for comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// The field is absent or null.
    Null,
    Text(Cow<'a, str>),
    Bool(bool),
    Number(f64),
    /// A list field: a comparison holds when it holds for any element.
    List(Vec<FieldValue<'a>>),
}

/// A record that filters can be evaluated against.
pub trait Filterable {
    /// The fields this record type can be filtered on. A trailing `*` accepts any suffix
    /// (`customField.*`).
    const FILTER_FIELDS: &'static [&'static str];

    /// The value at a dotted path, `FieldValue::Null` when absent.
    fn field(&self, path: &str) -> FieldValue<'_>;
}

/// Why a filter was refused; `Display` gives the message put in the 400 body's `message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("Invalid filter: {0}")]
    Syntax(String),
    #[error("Unsupported filter field: {0}")]
    UnsupportedField(String),
    /// The grammar holds, but the endpoint's rules refuse it (see [`rules`]).
    #[error("Unsupported filter: {0}")]
    Unsupported(String),
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    source: String,
    root: Expr,
}

impl Filter {
    /// Parses `text`, then checks every field against `allowed_fields` (exact names, or a prefix
    /// ending in `*`). Syntax errors win over unsupported fields, so a client fixing a typo is
    /// not first sent chasing a field-name message.
    pub fn parse(text: &str, allowed_fields: &[&str]) -> Result<Filter, FilterError> {
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Err(FilterError::Syntax("the filter is empty".into()));
        }
        let mut parser = Parser {
            text,
            tokens: &tokens,
            next: 0,
            depth: 0,
        };
        let root = parser.disjunction()?;
        if let Some(token) = parser.peek() {
            return Err(if token.kind == TokenKind::Close {
                syntax(format!(
                    "unbalanced parentheses: ')' at character {} has no matching '('",
                    char_position(text, token.start)
                ))
            } else {
                parser.unexpected("'and', 'or' or the end of the filter")
            });
        }
        if let Some(field) = root.first_unsupported_field(allowed_fields) {
            return Err(FilterError::UnsupportedField(field.to_owned()));
        }
        Ok(Filter {
            source: text.to_owned(),
            root,
        })
    }

    /// Whether `record` satisfies the filter.
    pub fn matches<T: Filterable>(&self, record: &T) -> bool {
        self.root.matches(record)
    }

    /// When every match must have `field` equal to one value (the filter is a conjunction
    /// containing `field eq 'v'`), that value. Lets the sandbox skip whole collections.
    ///
    /// The value is returned as written; `eq` matches case-insensitively, so callers comparing
    /// it with stored values should too.
    pub fn required_equal(&self, field: &str) -> Option<&str> {
        let mut found = None;
        self.root.for_each_conjunct(&mut |condition| {
            if found.is_none()
                && condition.field == field
                && let Test::Compare(Comparison::Eq, literal) = &condition.test
            {
                found = Some(literal.raw.as_str());
            }
        });
        found
    }

    /// When every match must have `field` greater than (or equal to) a value (a conjunction
    /// containing `field gt|ge 'v'`), the largest such value.
    ///
    /// "Largest" compares as instants when both values are date-times, else as numbers, else as
    /// case-insensitive text, matching how the comparison itself is evaluated.
    pub fn lower_bound(&self, field: &str) -> Option<&str> {
        self.bound(field, [Comparison::Gt, Comparison::Ge], Ordering::Greater)
    }

    /// When every match must have `field` less than (or equal to) a value (a conjunction
    /// containing `field lt|le 'v'`), the smallest such value; compared as [`Self::lower_bound`]
    /// compares.
    pub fn upper_bound(&self, field: &str) -> Option<&str> {
        self.bound(field, [Comparison::Lt, Comparison::Le], Ordering::Less)
    }

    /// The tightest value `field` is compared with by one of `comparisons` in the conjunction:
    /// the one that orders `tighter` than every other.
    fn bound(&self, field: &str, comparisons: [Comparison; 2], tighter: Ordering) -> Option<&str> {
        let mut best: Option<&Literal> = None;
        self.root.for_each_conjunct(&mut |condition| {
            if condition.field == field
                && let Test::Compare(comparison, literal) = &condition.test
                && comparisons.contains(comparison)
                && best.is_none_or(|current| literal_order(literal, current) == tighter)
            {
                best = Some(literal);
            }
        });
        best.map(|literal| literal.raw.as_str())
    }

    /// Whether `field` appears anywhere in the filter, under `and` or `or`.
    pub fn mentions(&self, field: &str) -> bool {
        self.fields().contains(&field)
    }

    /// The distinct fields the filter reads, in order of first appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut fields = Vec::new();
        self.root.for_each_condition(&mut |condition| {
            if !fields.contains(&condition.field.as_str()) {
                fields.push(condition.field.as_str());
            }
        });
        fields
    }

    /// The filter text as the client sent it, e.g. to keep with a paging cursor.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every condition in the order written, for endpoint rules that look past the grammar
    /// (which operators a field takes, a value's length, a field that must stand alone).
    pub fn terms(&self) -> Vec<Term<'_>> {
        let mut terms = Vec::new();
        self.root.for_each_term(false, &mut terms);
        terms
    }
}

/// One condition of a filter, as [`Filter::terms`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term<'f> {
    pub field: &'f str,
    /// The operator as Cvent's documentation spells it (`eq`, `sw`, `contains`, `in`,
    /// `is not null`, …); `co` is read as `contains`.
    pub operator: &'static str,
    /// The value compared with, as written; `None` for `in`, `match` and the `is` tests.
    pub value: Option<&'f str>,
    /// Whether the condition sits under an `or`, so not every match must satisfy it.
    pub under_or: bool,
}

/// Deeper nesting than any real client writes; the cap keeps hostile input from exhausting the
/// stack in the recursive parser and evaluator.
const MAX_NESTING: usize = 64;

const OPERATOR_LIST: &str = "eq, ne, gt, ge, lt, le, sw, ew, co, contains, in, match, is null, is not null, is empty, is not empty";

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Condition(Condition),
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    field: String,
    test: Test,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare(Comparison, Literal),
    In(Vec<Literal>),
    /// Relevance search, simulated as "contains every word".
    Match(Vec<Needle>),
    IsNull,
    IsNotNull,
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    StartsWith,
    EndsWith,
    Contains,
}

/// A value from the filter text, with the readings evaluation needs worked out up front.
#[derive(Debug, Clone, PartialEq)]
struct Literal {
    raw: String,
    text: Needle,
    instant: Option<DateTime<Utc>>,
    number: Option<f64>,
}

impl Literal {
    fn new(raw: String) -> Literal {
        Literal {
            text: Needle::new(&raw),
            instant: parse_instant(&raw),
            number: parse_number(&raw),
            raw,
        }
    }
}

/// Text lower-cased once, for case-insensitive comparisons against record values.
#[derive(Debug, Clone, PartialEq)]
struct Needle {
    lower: String,
    /// An ASCII needle against an ASCII haystack can use byte-wise comparisons.
    ascii: bool,
}

impl Needle {
    fn new(text: &str) -> Needle {
        // Per-char lower-casing (not `str::to_lowercase`, which treats a final sigma specially)
        // so the needle agrees with the per-char lower-casing applied to record values.
        let lower: String = lowercase_chars(text).collect();
        let ascii = lower.is_ascii();
        Needle { lower, ascii }
    }
}

impl Expr {
    fn matches<T: Filterable>(&self, record: &T) -> bool {
        match self {
            Expr::And(parts) => parts.iter().all(|part| part.matches(record)),
            Expr::Or(parts) => parts.iter().any(|part| part.matches(record)),
            Expr::Condition(condition) => condition.test.holds(&record.field(&condition.field)),
        }
    }

    /// Visits the conditions every match must satisfy: those reachable through `and` only.
    fn for_each_conjunct<'e>(&'e self, visit: &mut impl FnMut(&'e Condition)) {
        match self {
            Expr::Condition(condition) => visit(condition),
            Expr::And(parts) => parts.iter().for_each(|part| part.for_each_conjunct(visit)),
            Expr::Or(_) => {}
        }
    }

    fn for_each_condition<'e>(&'e self, visit: &mut impl FnMut(&'e Condition)) {
        match self {
            Expr::Condition(condition) => visit(condition),
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter().for_each(|part| part.for_each_condition(visit));
            }
        }
    }

    fn for_each_term<'e>(&'e self, under_or: bool, terms: &mut Vec<Term<'e>>) {
        match self {
            Expr::Condition(condition) => terms.push(Term {
                field: &condition.field,
                operator: condition.test.operator(),
                value: match &condition.test {
                    Test::Compare(_, literal) => Some(literal.raw.as_str()),
                    _ => None,
                },
                under_or,
            }),
            Expr::And(parts) => parts.iter().for_each(|p| p.for_each_term(under_or, terms)),
            Expr::Or(parts) => parts.iter().for_each(|p| p.for_each_term(true, terms)),
        }
    }

    fn first_unsupported_field(&self, allowed_fields: &[&str]) -> Option<&str> {
        let mut unsupported = None;
        self.for_each_condition(&mut |condition| {
            if unsupported.is_none() && !field_allowed(&condition.field, allowed_fields) {
                unsupported = Some(condition.field.as_str());
            }
        });
        unsupported
    }

    /// Joins `parts` with `and`/`or`, flattening nested groups of the same kind so evaluation
    /// walks one level per operator change rather than one per parenthesis.
    fn join(parts: Vec<Expr>, is_and: bool) -> Expr {
        let mut flat = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Expr::And(inner) if is_and => flat.extend(inner),
                Expr::Or(inner) if !is_and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() == 1
            && let Some(only) = flat.pop()
        {
            return only;
        }
        if is_and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }
}

fn field_allowed(field: &str, allowed_fields: &[&str]) -> bool {
    allowed_fields
        .iter()
        .any(|allowed| match allowed.strip_suffix('*') {
            Some(prefix) => field.len() > prefix.len() && field.starts_with(prefix),
            None => *allowed == field,
        })
}

impl Test {
    fn operator(&self) -> &'static str {
        match self {
            Test::Compare(comparison, _) => match comparison {
                Comparison::Eq => "eq",
                Comparison::Ne => "ne",
                Comparison::Gt => "gt",
                Comparison::Ge => "ge",
                Comparison::Lt => "lt",
                Comparison::Le => "le",
                Comparison::StartsWith => "sw",
                Comparison::EndsWith => "ew",
                Comparison::Contains => "contains",
            },
            Test::In(_) => "in",
            Test::Match(_) => "match",
            Test::IsNull => "is null",
            Test::IsNotNull => "is not null",
            Test::IsEmpty => "is empty",
            Test::IsNotEmpty => "is not empty",
        }
    }

    fn holds(&self, value: &FieldValue<'_>) -> bool {
        match self {
            Test::IsNull => matches!(value, FieldValue::Null),
            Test::IsNotNull => !matches!(value, FieldValue::Null),
            Test::IsEmpty => is_empty(value),
            Test::IsNotEmpty => !is_empty(value),
            // `ne` on a list means "no element equals", not "some element differs".
            Test::Compare(Comparison::Ne, literal) => {
                !any_scalar(value, &|scalar| scalar.equals(literal))
            }
            Test::Compare(comparison, literal) => {
                any_scalar(value, &|scalar| scalar.compare(*comparison, literal))
            }
            Test::In(literals) => any_scalar(value, &|scalar| {
                literals.iter().any(|literal| scalar.equals(literal))
            }),
            Test::Match(words) => any_scalar(value, &|scalar| {
                scalar.with_text(|text| words.iter().all(|word| contains_ci(text, word)))
            }),
        }
    }
}

fn is_empty(value: &FieldValue<'_>) -> bool {
    match value {
        FieldValue::Null => true,
        FieldValue::Text(text) => text.is_empty(),
        FieldValue::List(items) => items.is_empty(),
        FieldValue::Bool(_) | FieldValue::Number(_) => false,
    }
}

/// Whether `test` holds for the value or, for a list, any element. Null holds nothing.
fn any_scalar<F: Fn(Scalar<'_>) -> bool>(value: &FieldValue<'_>, test: &F) -> bool {
    match value {
        FieldValue::Null => false,
        FieldValue::Text(text) => test(Scalar::Text(text)),
        // Booleans compare as the words `true`/`false`, which a case-insensitive text match
        // pairs with `eq true`, `eq 'TRUE'` and the like.
        FieldValue::Bool(flag) => test(Scalar::Text(if *flag { "true" } else { "false" })),
        FieldValue::Number(number) => test(Scalar::Number(*number)),
        FieldValue::List(items) => items.iter().any(|item| any_scalar(item, test)),
    }
}

#[derive(Debug, Clone, Copy)]
enum Scalar<'v> {
    Text(&'v str),
    Number(f64),
}

impl Scalar<'_> {
    /// `eq`: equal instants in any spelling are equal; other text compares case-insensitively,
    /// because Cvent's text matching is case-insensitive in practice (`status eq 'accepted'`
    /// finds `Accepted`). Text is deliberately not compared as numbers, so opaque codes such
    /// as `007` and `7` stay distinct; a `Number` field compares numerically.
    fn equals(self, literal: &Literal) -> bool {
        match self {
            Scalar::Number(number) => match literal.number {
                Some(wanted) => number == wanted,
                None => with_number_text(number, |text| text_equals(text, literal)),
            },
            Scalar::Text(text) => text_equals(text, literal),
        }
    }

    fn compare(self, comparison: Comparison, literal: &Literal) -> bool {
        match comparison {
            Comparison::Eq => self.equals(literal),
            Comparison::Ne => !self.equals(literal),
            Comparison::Gt => self.order(literal) == Some(Ordering::Greater),
            Comparison::Ge => matches!(
                self.order(literal),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Comparison::Lt => self.order(literal) == Some(Ordering::Less),
            Comparison::Le => matches!(self.order(literal), Some(Ordering::Less | Ordering::Equal)),
            Comparison::StartsWith => self.with_text(|text| starts_with_ci(text, &literal.text)),
            Comparison::EndsWith => self.with_text(|text| ends_with_ci(text, &literal.text)),
            Comparison::Contains => self.with_text(|text| contains_ci(text, &literal.text)),
        }
    }

    /// Orders the record value against the literal: as instants when both are date-times, else
    /// as numbers when both are numeric, else as case-insensitive text. `None` for NaN.
    fn order(self, literal: &Literal) -> Option<Ordering> {
        match self {
            Scalar::Number(number) => match literal.number {
                Some(wanted) => number.partial_cmp(&wanted),
                None => Some(with_number_text(number, |text| {
                    compare_ci(text, &literal.text)
                })),
            },
            Scalar::Text(text) => {
                if let Some(wanted) = literal.instant
                    && let Some(instant) = parse_instant(text)
                {
                    return Some(instant.cmp(&wanted));
                }
                if let Some(wanted) = literal.number
                    && let Some(number) = parse_number(text)
                {
                    return number.partial_cmp(&wanted);
                }
                Some(compare_ci(text, &literal.text))
            }
        }
    }

    fn with_text<R>(self, use_text: impl FnOnce(&str) -> R) -> R {
        match self {
            Scalar::Text(text) => use_text(text),
            Scalar::Number(number) => with_number_text(number, use_text),
        }
    }
}

fn text_equals(text: &str, literal: &Literal) -> bool {
    // Identical spellings are the common case and need no date parsing.
    if equals_ci(text, &literal.text) {
        return true;
    }
    literal
        .instant
        .is_some_and(|wanted| parse_instant(text) == Some(wanted))
}

/// Renders a number the way `Display` does, into a stack buffer, so text operators (`sw`,
/// `contains`, …) on numeric fields don't allocate per record.
fn with_number_text<R>(number: f64, use_text: impl FnOnce(&str) -> R) -> R {
    let mut buffer = StackText {
        bytes: [0; 48],
        len: 0,
    };
    if write!(buffer, "{number}").is_ok() {
        use_text(buffer.as_str())
    } else {
        // Only extreme magnitudes (plain rendering longer than the buffer) get here.
        use_text(&number.to_string())
    }
}

struct StackText {
    bytes: [u8; 48],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        let end = self.len + piece.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(piece.as_bytes());
        self.len = end;
        Ok(())
    }
}

// Case-insensitive text helpers. Record values are lower-cased char by char on the fly rather
// than into a new `String`; pure-ASCII pairs take a byte-wise fast path.

fn lowercase_chars(text: &str) -> impl DoubleEndedIterator<Item = char> + '_ {
    text.chars().flat_map(char::to_lowercase)
}

fn ascii_pair(text: &str, needle: &Needle) -> bool {
    needle.ascii && text.is_ascii()
}

fn equals_ci(text: &str, needle: &Needle) -> bool {
    if ascii_pair(text, needle) {
        text.eq_ignore_ascii_case(&needle.lower)
    } else {
        lowercase_chars(text).eq(needle.lower.chars())
    }
}

fn compare_ci(text: &str, needle: &Needle) -> Ordering {
    if ascii_pair(text, needle) {
        text.bytes()
            .map(|byte| byte.to_ascii_lowercase())
            .cmp(needle.lower.bytes())
    } else {
        lowercase_chars(text).cmp(needle.lower.chars())
    }
}

fn starts_with_ci(text: &str, needle: &Needle) -> bool {
    if ascii_pair(text, needle) {
        text.as_bytes()
            .get(..needle.lower.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(needle.lower.as_bytes()))
    } else {
        starts_with_lower(text, &needle.lower)
    }
}

fn starts_with_lower(text: &str, lower: &str) -> bool {
    let mut chars = lowercase_chars(text);
    lower.chars().all(|wanted| chars.next() == Some(wanted))
}

fn ends_with_ci(text: &str, needle: &Needle) -> bool {
    if ascii_pair(text, needle) {
        text.len()
            .checked_sub(needle.lower.len())
            .and_then(|start| text.as_bytes().get(start..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(needle.lower.as_bytes()))
    } else {
        let mut chars = lowercase_chars(text).rev();
        needle
            .lower
            .chars()
            .rev()
            .all(|wanted| chars.next() == Some(wanted))
    }
}

fn contains_ci(text: &str, needle: &Needle) -> bool {
    if needle.lower.is_empty() {
        return true;
    }
    if ascii_pair(text, needle) {
        let wanted = needle.lower.as_bytes();
        text.as_bytes()
            .windows(wanted.len())
            .any(|window| window.eq_ignore_ascii_case(wanted))
    } else {
        text.char_indices().any(|(start, _)| {
            text.get(start..)
                .is_some_and(|rest| starts_with_lower(rest, &needle.lower))
        })
    }
}

/// Reads RFC 3339 date-times (any offset, any fractional precision), ISO-8601 date-times
/// without an offset (taken as UTC) and bare dates (midnight UTC).
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    // Cheap shape check first: most record values compared here are not dates.
    let head = text.as_bytes().get(..10)?;
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = head else {
        return None;
    };
    let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if text.len() == 10 {
        let value = |bytes: &[u8]| {
            bytes
                .iter()
                .fold(0_u32, |acc, byte| acc * 10 + u32::from(byte - b'0'))
        };
        let year = i32::try_from(value(&digits[..4])).ok()?;
        let date = NaiveDate::from_ymd_opt(year, value(&digits[4..6]), value(&digits[6..8]))?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc());
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::from_str(text)
        .ok()
        .map(|local| local.and_utc())
}

/// A finite decimal number; rejects Rust's `inf`/`NaN` spellings, which are words, not numbers.
fn parse_number(text: &str) -> Option<f64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

fn literal_order(left: &Literal, right: &Literal) -> Ordering {
    if let (Some(a), Some(b)) = (left.instant, right.instant) {
        return a.cmp(&b);
    }
    if let (Some(a), Some(b)) = (left.number, right.number) {
        return a.total_cmp(&b);
    }
    left.text.lower.cmp(&right.text.lower)
}

fn syntax(message: String) -> FilterError {
    FilterError::Syntax(message)
}

/// 1-based character position of a byte offset, as people count when reading the filter.
fn char_position(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |before| before.chars().count()) + 1
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind<'t> {
    /// A bare run of characters: field name, keyword, operator, `true`/`false` or number.
    Word(&'t str),
    /// A quoted string with escapes resolved.
    Quoted {
        value: String,
        quote: char,
    },
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
struct Token<'t> {
    kind: TokenKind<'t>,
    /// Byte offset in the filter text.
    start: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, first)) = chars.peek() {
        let kind = match first {
            _ if first.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' | ')' | ',' => {
                chars.next();
                match first {
                    '(' => TokenKind::Open,
                    ')' => TokenKind::Close,
                    _ => TokenKind::Comma,
                }
            }
            '\'' | '"' => {
                chars.next();
                let value = read_quoted(text, start, first, &mut chars)?;
                TokenKind::Quoted {
                    value,
                    quote: first,
                }
            }
            _ => {
                let mut end = text.len();
                while let Some(&(at, next)) = chars.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | ',' | '\'' | '"') {
                        end = at;
                        break;
                    }
                    chars.next();
                }
                TokenKind::Word(text.get(start..end).unwrap_or_default())
            }
        };
        tokens.push(Token { kind, start });
    }
    Ok(tokens)
}

/// Reads a quoted value whose opening `quote` (at byte `start`) was just consumed. Inside double
/// quotes `\"` and `\\` are escapes (as Cvent documents); inside single quotes `''` is one quote.
/// Any other backslash is kept as written.
fn read_quoted(
    text: &str,
    start: usize,
    quote: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<String, FilterError> {
    let mut value = String::new();
    loop {
        match chars.next() {
            None => {
                let style = if quote == '"' { "double" } else { "single" };
                return Err(syntax(format!(
                    "unterminated {style}-quoted value starting at character {}: missing closing {quote}",
                    char_position(text, start)
                )));
            }
            Some((_, found)) if found == quote => {
                if quote == '\'' && chars.next_if(|&(_, next)| next == '\'').is_some() {
                    value.push('\'');
                } else {
                    return Ok(value);
                }
            }
            Some((_, '\\')) if quote == '"' => {
                match chars.next_if(|&(_, next)| matches!(next, '"' | '\\')) {
                    Some((_, escaped)) => value.push(escaped),
                    None => value.push('\\'),
                }
            }
            Some((_, other)) => value.push(other),
        }
    }
}

struct Parser<'p, 't> {
    text: &'t str,
    tokens: &'p [Token<'t>],
    next: usize,
    depth: usize,
}

impl<'p, 't> Parser<'p, 't> {
    fn peek(&self) -> Option<&'p Token<'t>> {
        self.tokens.get(self.next)
    }

    fn peek_at(&self, ahead: usize) -> Option<&'p Token<'t>> {
        self.tokens.get(self.next + ahead)
    }

    fn position(&self, token: &Token<'_>) -> usize {
        char_position(self.text, token.start)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek().is_some_and(|token| is_word(token, keyword));
        if found {
            self.next += 1;
        }
        found
    }

    /// "expected {what}" at the next token, naming what was found instead, or what came last
    /// when the filter ends early.
    fn unexpected(&self, what: &str) -> FilterError {
        match self.peek() {
            Some(token) => syntax(format!(
                "expected {what} at character {}, found {}",
                self.position(token),
                describe(token)
            )),
            None => match self
                .next
                .checked_sub(1)
                .and_then(|last| self.tokens.get(last))
            {
                Some(last) => syntax(format!(
                    "expected {what} after {} at character {}, but the filter ends there",
                    describe(last),
                    self.position(last)
                )),
                None => syntax("the filter is empty".into()),
            },
        }
    }

    fn disjunction(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.conjunction()?];
        while self.eat_keyword("or") {
            parts.push(self.conjunction()?);
        }
        Ok(Expr::join(parts, false))
    }

    fn conjunction(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.primary()?];
        while self.eat_keyword("and") {
            parts.push(self.primary()?);
        }
        Ok(Expr::join(parts, true))
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected("a condition"));
        };
        match &token.kind {
            TokenKind::Open => self.group(token),
            TokenKind::Word(word)
                if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") =>
            {
                Err(self.unexpected("a condition"))
            }
            // `not` could in principle be a field name; only treat it as the (unsupported)
            // operator when no comparison operator follows.
            TokenKind::Word(word)
                if word.eq_ignore_ascii_case("not")
                    && self
                        .peek_at(1)
                        .is_none_or(|next| operator_word(next).is_none()) =>
            {
                Err(syntax(format!(
                    "'{word}' at character {} is not part of Cvent's filter grammar; use ne, is not null or is not empty",
                    self.position(token)
                )))
            }
            TokenKind::Word(_) | TokenKind::Quoted { .. } => self.condition(),
            TokenKind::Close | TokenKind::Comma => Err(self.unexpected("a condition")),
        }
    }

    fn group(&mut self, open: &Token<'_>) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(syntax(format!(
                "parentheses nested more than {MAX_NESTING} deep at character {}",
                self.position(open)
            )));
        }
        self.next += 1;
        let inner = self.disjunction()?;
        match self.peek() {
            Some(token) if token.kind == TokenKind::Close => {
                self.next += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Some(_) => Err(self.unexpected("'and', 'or' or ')'")),
            None => Err(syntax(format!(
                "unbalanced parentheses: '(' at character {} is never closed",
                self.position(open)
            ))),
        }
    }

    fn condition(&mut self) -> Result<Expr, FilterError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected("a condition"));
        };
        let field = match &token.kind {
            TokenKind::Word(word) => {
                check_field_name(word, self.position(token))?;
                (*word).to_owned()
            }
            TokenKind::Quoted { value, quote: '\'' } => {
                check_field_name(value, self.position(token) + 1)?;
                value.clone()
            }
            TokenKind::Quoted { .. } => {
                return Err(syntax(format!(
                    "expected a field name at character {}, found {}; field names are written bare or in single quotes",
                    self.position(token),
                    describe(token)
                )));
            }
            TokenKind::Open | TokenKind::Close | TokenKind::Comma => {
                return Err(self.unexpected("a condition"));
            }
        };
        self.next += 1;
        let test = self.test(&field)?;
        Ok(Expr::Condition(Condition { field, test }))
    }

    fn test(&mut self, field: &str) -> Result<Test, FilterError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected(&format!(
                "an operator ({OPERATOR_LIST}) after field '{field}'"
            )));
        };
        let TokenKind::Word(word) = token.kind else {
            return Err(self.unexpected(&format!("an operator after field '{field}'")));
        };
        let Some(operator) = operator_word(token) else {
            return Err(syntax(format!(
                "unknown operator '{word}' at character {} after field '{field}'; expected one of {OPERATOR_LIST}",
                self.position(token)
            )));
        };
        self.next += 1;
        let comparison = match operator {
            Operator::Compare(comparison) => comparison,
            Operator::In => return self.in_list(),
            Operator::Is => return self.is_test(token),
            Operator::Match => {
                let phrase = self.value(word)?;
                return Ok(Test::Match(
                    phrase.raw.split_whitespace().map(Needle::new).collect(),
                ));
            }
        };
        Ok(Test::Compare(comparison, self.value(word)?))
    }

    fn value(&mut self, operator: &str) -> Result<Literal, FilterError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected(&format!("a value for '{operator}'")));
        };
        let raw = match &token.kind {
            TokenKind::Quoted { value, .. } => value.clone(),
            TokenKind::Word(word)
                if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") =>
            {
                word.to_ascii_lowercase()
            }
            TokenKind::Word(word) if parse_number(word).is_some() => (*word).to_owned(),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("null") => {
                return Err(syntax(format!(
                    "unquoted null at character {}; test for null with 'is null' or 'is not null'",
                    self.position(token)
                )));
            }
            TokenKind::Word(word) => {
                return Err(syntax(format!(
                    "unquoted value '{word}' at character {}; text values must be in single or double quotes",
                    self.position(token)
                )));
            }
            TokenKind::Open | TokenKind::Close | TokenKind::Comma => {
                return Err(self.unexpected(&format!("a value for '{operator}'")));
            }
        };
        self.next += 1;
        Ok(Literal::new(raw))
    }

    fn in_list(&mut self) -> Result<Test, FilterError> {
        let Some(open) = self.peek().filter(|token| token.kind == TokenKind::Open) else {
            return Err(
                self.unexpected("'(' starting the list of values for 'in', as in in ('a','b')")
            );
        };
        self.next += 1;
        if self
            .peek()
            .is_some_and(|token| token.kind == TokenKind::Close)
        {
            return Err(syntax(format!(
                "empty value list for 'in' at character {}; give at least one value",
                self.position(open)
            )));
        }
        let mut values = Vec::new();
        loop {
            values.push(self.value("in")?);
            match self.peek().map(|token| &token.kind) {
                Some(TokenKind::Comma) => self.next += 1,
                Some(TokenKind::Close) => {
                    self.next += 1;
                    return Ok(Test::In(values));
                }
                Some(_) => return Err(self.unexpected("',' or ')' in the value list for 'in'")),
                None => {
                    return Err(syntax(format!(
                        "unbalanced parentheses: the value list for 'in' opened at character {} is never closed",
                        self.position(open)
                    )));
                }
            }
        }
    }

    fn is_test(&mut self, is: &Token<'_>) -> Result<Test, FilterError> {
        let negated = self.eat_keyword("not");
        let test = match self.peek() {
            Some(token) if is_word(token, "null") => Some(if negated {
                Test::IsNotNull
            } else {
                Test::IsNull
            }),
            Some(token) if is_word(token, "empty") => Some(if negated {
                Test::IsNotEmpty
            } else {
                Test::IsEmpty
            }),
            _ => None,
        };
        match test {
            Some(test) => {
                self.next += 1;
                Ok(test)
            }
            None => Err(syntax(format!(
                "'is' at character {} must be followed by null, not null, empty or not empty{}",
                self.position(is),
                match self.peek() {
                    Some(token) => format!(
                        ", found {} at character {}",
                        describe(token),
                        self.position(token)
                    ),
                    None => ", but the filter ends there".to_owned(),
                }
            ))),
        }
    }
}

enum Operator {
    Compare(Comparison),
    In,
    Is,
    Match,
}

fn operator_word(token: &Token<'_>) -> Option<Operator> {
    let TokenKind::Word(word) = token.kind else {
        return None;
    };
    const OPERATORS: [(&str, Operator); 13] = [
        ("eq", Operator::Compare(Comparison::Eq)),
        ("ne", Operator::Compare(Comparison::Ne)),
        ("gt", Operator::Compare(Comparison::Gt)),
        ("ge", Operator::Compare(Comparison::Ge)),
        ("lt", Operator::Compare(Comparison::Lt)),
        ("le", Operator::Compare(Comparison::Le)),
        ("sw", Operator::Compare(Comparison::StartsWith)),
        ("ew", Operator::Compare(Comparison::EndsWith)),
        ("co", Operator::Compare(Comparison::Contains)),
        ("contains", Operator::Compare(Comparison::Contains)),
        ("in", Operator::In),
        ("is", Operator::Is),
        ("match", Operator::Match),
    ];
    OPERATORS
        .into_iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, operator)| operator)
}

fn is_word(token: &Token<'_>, keyword: &str) -> bool {
    matches!(token.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword))
}

fn describe(token: &Token<'_>) -> String {
    match &token.kind {
        TokenKind::Word(word) => format!("'{word}'"),
        TokenKind::Quoted { value, quote } => format!("the quoted value {quote}{value}{quote}"),
        TokenKind::Open => "'('".to_owned(),
        TokenKind::Close => "')'".to_owned(),
        TokenKind::Comma => "','".to_owned(),
    }
}

/// Field names are dotted paths of letters, digits, `_` and `-` (UUID segments included).
fn check_field_name(name: &str, position: usize) -> Result<(), FilterError> {
    if name.is_empty() {
        return Err(syntax(format!("empty field name at character {position}")));
    }
    let mut segment_start = true;
    for (offset, character) in name.chars().enumerate() {
        let at = position + offset;
        if character == '.' {
            if segment_start {
                return Err(syntax(format!(
                    "empty segment in field name '{name}' at character {at}"
                )));
            }
            segment_start = true;
        } else if character.is_alphanumeric() || matches!(character, '_' | '-') {
            segment_start = false;
        } else {
            return Err(syntax(format!(
                "invalid character '{character}' in field name '{name}' at character {at}"
            )));
        }
    }
    if segment_start {
        return Err(syntax(format!(
            "field name '{name}' ends with '.' at character {}",
            position + name.chars().count() - 1
        )));
    }
    Ok(())
}

pub mod rules;

#[cfg(test)]
mod tests;
