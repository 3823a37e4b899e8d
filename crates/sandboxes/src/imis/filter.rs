//! Reading an iMIS query string: its parameters by name without regard to case, property filters
//! (`?Prop=op:value`, a bare value meaning `eq`) and `limit`/`offset` paging.

use std::cmp::Ordering;

/// `limit` when a call gives none.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page: a larger `limit` is taken as this.
pub const MAX_LIMIT: usize = 500;

/// The query string's pairs, in order, looked up by name without regard to case (as ASP.NET
/// binds them).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            query
                .map(|query| {
                    form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every pair whose name is none of `reserved`.
    pub fn others<'a>(
        &'a self,
        reserved: &'a [&str],
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0
            .iter()
            .filter(|(key, _)| !reserved.iter().any(|r| key.eq_ignore_ascii_case(r)))
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    StartsWith,
    Contains,
    Gt,
    Ge,
    Lt,
    Le,
}

/// One filter's test: an operator and the value it compares with.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    pub value: String,
}

/// Operators iMIS names that the sandbox does not evaluate.
const UNSUPPORTED: [&str; 2] = ["in", "between"];

impl Condition {
    /// Reads `op:value`. A value whose text before the first `:` is no operator (an email, a
    /// date with its time) is compared `eq` as a whole.
    pub fn parse(raw: &str) -> Result<Condition, String> {
        if let Some((prefix, rest)) = raw.split_once(':') {
            let operator = match prefix.to_ascii_lowercase().as_str() {
                "eq" => Some(Operator::Eq),
                "ne" => Some(Operator::Ne),
                "startswith" => Some(Operator::StartsWith),
                "contains" => Some(Operator::Contains),
                "gt" => Some(Operator::Gt),
                "ge" => Some(Operator::Ge),
                "lt" => Some(Operator::Lt),
                "le" => Some(Operator::Le),
                other if UNSUPPORTED.contains(&other) => {
                    return Err(format!(
                        "The operator '{prefix}' is not supported by this site."
                    ));
                }
                _ => None,
            };
            if let Some(operator) = operator {
                return Ok(Condition {
                    operator,
                    value: rest.to_string(),
                });
            }
        }
        Ok(Condition {
            operator: Operator::Eq,
            value: raw.to_string(),
        })
    }

    /// Whether `candidate` passes: text without regard to case, numbers as numbers.
    pub fn matches(&self, candidate: &str) -> bool {
        let ordering = || compare(candidate, &self.value);
        match self.operator {
            Operator::Eq => ordering() == Ordering::Equal,
            Operator::Ne => ordering() != Ordering::Equal,
            Operator::StartsWith => candidate
                .to_lowercase()
                .starts_with(&self.value.to_lowercase()),
            Operator::Contains => candidate
                .to_lowercase()
                .contains(&self.value.to_lowercase()),
            Operator::Gt => ordering() == Ordering::Greater,
            Operator::Ge => ordering() != Ordering::Less,
            Operator::Lt => ordering() == Ordering::Less,
            Operator::Le => ordering() != Ordering::Greater,
        }
    }

    /// Whether any of a multi-valued property's values passes (`ne`: whether none is equal).
    pub fn matches_any(&self, candidates: &[String]) -> bool {
        if self.operator == Operator::Ne {
            let equal = Condition {
                operator: Operator::Eq,
                value: self.value.clone(),
            };
            return !candidates.iter().any(|c| equal.matches(c));
        }
        candidates.iter().any(|c| self.matches(c))
    }
}

/// Numbers by value when both sides are numbers, else text without regard to case.
fn compare(left: &str, right: &str) -> Ordering {
    let number = |text: &str| text.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    match (number(left), number(right)) {
        (Some(left), Some(right)) => left.partial_cmp(&right).unwrap_or(Ordering::Equal),
        _ => left.to_lowercase().cmp(&right.to_lowercase()),
    }
}

/// Reads every filter of a call: each name resolved to a property key by `resolve`, or an error
/// naming the property that `entity` does not have.
pub fn read_filters<K>(
    params: &Params,
    reserved: &[&str],
    entity: &str,
    resolve: impl Fn(&str) -> Option<K>,
) -> Result<Vec<(K, Condition)>, String> {
    params
        .others(reserved)
        .map(|(name, raw)| {
            let key =
                resolve(name).ok_or_else(|| format!("'{name}' is not a property of {entity}."))?;
            Ok((key, Condition::parse(raw)?))
        })
        .collect()
}

/// The part of a listing one call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
}

impl Paging {
    /// Reads `limit` and `offset`: no or a non-positive `limit` is the default, a larger one
    /// than [`MAX_LIMIT`] is taken as that; text that is no whole number is an error.
    pub fn read(params: &Params) -> Result<Paging, String> {
        let number = |name: &str| -> Result<Option<i64>, String> {
            match params.get(name) {
                None => Ok(None),
                Some(text) if text.trim().is_empty() => Ok(None),
                Some(text) => text
                    .trim()
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| format!("The value '{text}' is not valid for {name}.")),
            }
        };
        let limit = match number("limit")? {
            Some(limit) if limit > 0 => usize::try_from(limit).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
            _ => DEFAULT_LIMIT,
        };
        let offset = match number("offset")? {
            None => 0,
            Some(offset) => usize::try_from(offset)
                .map_err(|_| format!("The value '{offset}' is not valid for offset."))?,
        };
        Ok(Paging { offset, limit })
    }

    /// The page of `items` this paging asks for.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = self.offset.min(items.len());
        let end = self.offset.saturating_add(self.limit).min(items.len());
        &items[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_bare_values() {
        let eq = Condition::parse("eq:Ada@Example.org").expect("parses");
        assert_eq!(eq.operator, Operator::Eq);
        assert!(eq.matches("ada@example.ORG"));
        let bare = Condition::parse("ada@example.org").expect("parses");
        assert_eq!(
            bare,
            Condition::parse("eq:ada@example.org").expect("parses")
        );
        let date = Condition::parse("2026-03-02T09:00:00").expect("parses");
        assert_eq!(date.operator, Operator::Eq);
        assert_eq!(date.value, "2026-03-02T09:00:00");
        let starts = Condition::parse("startsWith:ADA").expect("parses");
        assert!(starts.matches("ada.lovelace@example.org"));
        assert!(!starts.matches("grace@example.org"));
        assert!(
            Condition::parse("contains:love")
                .expect("parses")
                .matches("Lovelace")
        );
        assert!(Condition::parse("eq:2").expect("parses").matches("2.0"));
        assert!(Condition::parse("gt:9").expect("parses").matches("10"));
        assert!(Condition::parse("in:a|b").is_err());
        let ne = Condition::parse("ne:a").expect("parses");
        assert!(!ne.matches_any(&["b".into(), "A".into()]));
        assert!(ne.matches_any(&["b".into()]));
    }

    #[test]
    fn paging_defaults_and_clamps() {
        let read = |query: &str| Paging::read(&Params::parse(Some(query)));
        assert_eq!(
            read(""),
            Ok(Paging {
                offset: 0,
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(
            read("Limit=1000&OFFSET=3"),
            Ok(Paging {
                offset: 3,
                limit: MAX_LIMIT
            })
        );
        assert_eq!(
            read("limit=0"),
            Ok(Paging {
                offset: 0,
                limit: DEFAULT_LIMIT
            })
        );
        assert!(read("limit=ten").is_err());
        assert!(read("offset=-1").is_err());
        let items = [1, 2, 3, 4, 5];
        let page = Paging {
            offset: 3,
            limit: 10,
        };
        assert_eq!(page.slice(&items), &[4, 5]);
        let past = Paging {
            offset: 9,
            limit: 10,
        };
        assert!(past.slice(&items).is_empty());
    }

    proptest::proptest! {
        /// Any query string is read, and any filter compared, without a panic.
        #[test]
        fn any_query_string_is_read(query in ".{0,64}", candidate in ".{0,16}") {
            let params = Params::parse(Some(&query));
            let _ = Paging::read(&params);
            for (_, raw) in params.others(&["limit", "offset"]) {
                if let Ok(condition) = Condition::parse(raw) {
                    let _ = condition.matches(&candidate);
                }
            }
        }
    }
}
