//! Table-driven tests of the filter grammar against a small in-memory record.

use std::borrow::Cow;

use super::*;

/// A record whose fields are listed explicitly; absent fields read as `Null`.
struct Record(Vec<(&'static str, FieldValue<'static>)>);

impl Filterable for Record {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "id",
        "status",
        "firstName",
        "middleName",
        "lastName",
        "title",
        "capacity",
        "checkedIn",
        "created",
        "lastModified",
        "contact.email",
        "event.id",
        "tags",
        "segments",
        "note",
        "score",
        "code",
        "customField.*",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        self.0
            .iter()
            .find(|(name, _)| *name == path)
            .map_or(FieldValue::Null, |(_, value)| value.clone())
    }
}

fn text(value: &'static str) -> FieldValue<'static> {
    FieldValue::Text(Cow::Borrowed(value))
}

fn attendee() -> Record {
    Record(vec![
        ("id", text("abc")),
        ("status", text("Accepted")),
        ("firstName", text("Éowyn")),
        ("lastName", text("O'Keenan")),
        ("title", text("\"Yearly\" Conference 2024")),
        ("capacity", FieldValue::Number(150.0)),
        ("checkedIn", FieldValue::Bool(true)),
        ("created", text("2024-01-02T03:04:05Z")),
        ("lastModified", text("2024-03-04T10:00:00.000+02:00")),
        ("contact.email", text("Jane.Doe@Example.com")),
        ("event.id", text("e-1")),
        ("tags", FieldValue::List(vec![text("VIP"), text("speaker")])),
        ("segments", FieldValue::List(Vec::new())),
        ("note", text("")),
        ("score", text("42")),
        ("code", text("007")),
        ("customField.1f2e-99", text("Gold")),
        (
            "customField.multi",
            FieldValue::List(vec![FieldValue::Number(1.0), FieldValue::Null]),
        ),
    ])
}

fn parse(filter: &str) -> Filter {
    match Filter::parse(filter, Record::FILTER_FIELDS) {
        Ok(parsed) => parsed,
        Err(error) => panic!("{filter:?} should parse, got {error}"),
    }
}

fn assert_cases(record: &Record, cases: &[(&str, bool)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(filter, expected)| {
            let got = parse(filter).matches(record);
            (got != *expected).then(|| format!("{filter:?}: expected {expected}, got {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn every_operator_on_text() {
    assert_cases(
        &attendee(),
        &[
            ("status eq 'Accepted'", true),
            ("status eq 'accepted'", true),
            ("status eq 'Accept'", false),
            ("status ne 'Pending'", true),
            ("status ne 'ACCEPTED'", false),
            ("status gt 'Aardvark'", true),
            ("status gt 'accepted'", false),
            ("status ge 'accepted'", true),
            ("status lt 'B'", true),
            ("status lt 'accepted'", false),
            ("status le 'ACCEPTED'", true),
            ("status le 'Aa'", false),
            ("status sw 'acc'", true),
            ("status sw 'cep'", false),
            ("status ew 'TED'", true),
            ("status ew 'acc'", false),
            ("status contains 'cept'", true),
            ("status co 'CEPT'", true),
            ("status contains 'xyz'", false),
            ("status in ('Pending', 'accepted')", true),
            ("status in ('Pending','Declined')", false),
            ("title match 'yearly conference'", true),
            ("title match 'CONFERENCE yearly'", true),
            ("title match 'yearly summit'", false),
            ("status is not null", true),
            ("status is null", false),
            ("status is not empty", true),
            ("status is empty", false),
        ],
    );
}

#[test]
fn keywords_are_case_insensitive_and_fields_may_be_quoted() {
    assert_cases(
        &attendee(),
        &[
            ("status EQ 'Accepted'", true),
            ("status Eq 'Accepted' AND id eq 'abc'", true),
            ("status eq 'Pending' OR id eq 'abc'", true),
            ("status IS NOT NULL", true),
            ("status In ('accepted')", true),
            ("status CONTAINS 'cep'", true),
            ("'status' eq 'Accepted'", true),
            ("'contact.email' ew '@example.com'", true),
            ("status eq'Accepted'and id eq'abc'", true),
            ("  status   eq   'Accepted'  ", true),
        ],
    );
}

#[test]
fn quoting_and_escapes() {
    assert_cases(
        &attendee(),
        &[
            (r#"lastName eq "O'Keenan""#, true),
            (r"lastName eq 'O''Keenan'", true),
            (r#"title eq "\"Yearly\" Conference 2024""#, true),
            (r#"title eq '"Yearly" Conference 2024'"#, true),
            (r#"title sw "\"yearly\"""#, true),
            (r#"title eq "Yearly Conference 2024""#, false),
            (r#"id in ("abc", 'def')"#, true),
            (r#"status eq "Accepted""#, true),
            // The backslash escape applies only to `"` and `\`; other backslashes stay literal.
            (r#"title ne "\d""#, true),
        ],
    );
    let backslash = Record(vec![("note", text(r"C:\path"))]);
    assert_cases(
        &backslash,
        &[
            (r#"note eq "C:\\path""#, true),
            (r#"note eq "C:\path""#, true),
            (r"note eq 'C:\path'", true),
        ],
    );
}

#[test]
fn non_ascii_text_compares_case_insensitively() {
    assert_cases(
        &attendee(),
        &[
            ("firstName eq 'éowyn'", true),
            ("firstName eq 'ÉOWYN'", true),
            ("firstName sw 'éo'", true),
            ("firstName ew 'WYN'", true),
            ("firstName contains 'OWY'", true),
            ("firstName contains 'ow'", true),
            ("firstName gt 'E'", true),
            ("firstName eq 'Eowyn'", false),
        ],
    );
}

#[test]
fn official_precedence_example() {
    // `and` binds tighter: Accepted, or (Pending and id in {abc, def}).
    let filter =
        parse("status eq 'Accepted' or status eq 'Pending' and (id eq 'abc' or id eq 'def')");
    let cases = [
        ("Accepted", "zzz", true),
        ("Pending", "abc", true),
        ("Pending", "def", true),
        ("Pending", "zzz", false),
        ("Declined", "abc", false),
    ];
    for (status, id, expected) in cases {
        let record = Record(vec![("status", text(status)), ("id", text(id))]);
        assert_eq!(filter.matches(&record), expected, "status={status} id={id}");
    }
}

#[test]
fn precedence_and_grouping() {
    assert_cases(
        &attendee(),
        &[
            ("status eq 'Pending' and id eq 'abc' or id eq 'abc'", true),
            (
                "status eq 'Pending' and (id eq 'abc' or id eq 'abc')",
                false,
            ),
            ("id eq 'abc' or status eq 'Pending' and id eq 'zzz'", true),
            (
                "(id eq 'abc' or status eq 'Pending') and id eq 'zzz'",
                false,
            ),
            ("((status eq 'Accepted'))", true),
            (
                "(status eq 'Accepted' AND (id eq 'x' OR (event.id eq 'e-1' and code eq '007')))",
                true,
            ),
            (
                "status eq 'Accepted' and id eq 'abc' and event.id eq 'e-2'",
                false,
            ),
            ("status eq 'x' or id eq 'y' or event.id eq 'e-1'", true),
        ],
    );
}

#[test]
fn dates_compare_as_instants() {
    assert_cases(
        &attendee(),
        &[
            ("created eq '2024-01-02T03:04:05Z'", true),
            ("created eq '2024-01-02T03:04:05.000Z'", true),
            ("created eq '2024-01-02T04:04:05+01:00'", true),
            ("created eq '2024-01-02t03:04:05z'", true),
            ("created eq '2024-01-02T03:04:05'", true),
            ("created ne '2024-01-02T03:04:05.000Z'", false),
            ("created eq '2024-01-02T03:04:06Z'", false),
            ("created gt '2024-01-02'", true),
            ("created ge '2024-01-02T03:04:05.000Z'", true),
            ("created gt '2024-01-02T03:04:05.000Z'", false),
            ("created lt '2024-01-02T03:04:05.001Z'", true),
            ("created le '2024-01-02T03:04:05+00:00'", true),
            ("created lt '2024-01-02'", false),
            // 10:00+02:00 is 08:00Z, although "10:00" sorts after "09:00" as text.
            ("lastModified lt '2024-03-04T09:00:00Z'", true),
            ("lastModified eq '2024-03-04T08:00:00Z'", true),
            ("lastModified gt '2024-03-04T08:30:00Z'", false),
        ],
    );
    let dated = Record(vec![("created", text("2024-01-02"))]);
    assert_cases(
        &dated,
        &[
            ("created eq '2024-01-02T00:00:00Z'", true),
            ("created lt '2024-01-02T00:00:01Z'", true),
            ("created gt '2024-01-01T23:59:59.999Z'", true),
        ],
    );
}

#[test]
fn numbers_compare_numerically() {
    assert_cases(
        &attendee(),
        &[
            ("capacity eq 150", true),
            ("capacity eq '150'", true),
            ("capacity eq 150.0", true),
            ("capacity eq 1.5e2", true),
            ("capacity ne 150", false),
            ("capacity gt 10", true),
            ("capacity gt 150", false),
            ("capacity ge 150", true),
            ("capacity lt 1000", true),
            ("capacity le -1", false),
            ("capacity in (100, 150)", true),
            ("capacity sw '15'", true),
            ("capacity contains '50'", true),
            ("capacity eq 'many'", false),
            // Text that looks numeric orders numerically ("42" > "100" as text) ...
            ("score lt 100", true),
            ("score gt '9'", true),
            // ... but equality on text stays textual, so codes keep their leading zeros.
            ("code eq '007'", true),
            ("code eq 7", false),
        ],
    );
}

#[test]
fn booleans() {
    assert_cases(
        &attendee(),
        &[
            ("checkedIn eq true", true),
            ("checkedIn eq TRUE", true),
            ("checkedIn eq 'true'", true),
            ("checkedIn eq 'True'", true),
            ("checkedIn eq false", false),
            ("checkedIn ne false", true),
            ("checkedIn ne true", false),
            ("checkedIn in (false, true)", true),
            ("checkedIn is not null", true),
        ],
    );
    let unchecked = Record(vec![("checkedIn", FieldValue::Bool(false))]);
    assert_cases(
        &unchecked,
        &[
            ("checkedIn eq false", true),
            ("checkedIn eq 'FALSE'", true),
            ("checkedIn eq true", false),
        ],
    );
}

#[test]
fn lists_hold_when_any_element_holds() {
    assert_cases(
        &attendee(),
        &[
            ("tags eq 'vip'", true),
            ("tags eq 'speaker'", true),
            ("tags eq 'sponsor'", false),
            ("tags ne 'sponsor'", true),
            ("tags ne 'VIP'", false),
            ("tags contains 'peak'", true),
            ("tags in ('sponsor', 'speaker')", true),
            ("tags sw 'v'", true),
            ("tags is empty", false),
            ("tags is not empty", true),
            ("segments is empty", true),
            ("segments is not empty", false),
            ("segments is null", false),
            ("segments eq 'x'", false),
            ("segments ne 'x'", true),
            ("customField.multi eq 1", true),
            ("customField.multi gt 1", false),
            ("customField.multi is null", false),
        ],
    );
}

#[test]
fn null_and_empty_fields() {
    assert_cases(
        &attendee(),
        &[
            ("middleName is null", true),
            ("middleName is not null", false),
            ("middleName is empty", true),
            ("middleName is not empty", false),
            ("middleName ne 'x'", true),
            ("middleName eq 'x'", false),
            ("middleName eq ''", false),
            ("middleName gt ''", false),
            ("middleName lt 'zzz'", false),
            ("middleName sw ''", false),
            ("middleName contains ''", false),
            ("middleName in ('x')", false),
            ("middleName match 'x'", false),
            ("note is empty", true),
            ("note is null", false),
            ("note is not null", true),
            ("note eq ''", true),
            ("customField.1f2e-99 eq 'gold'", true),
            ("customField.unknown is null", true),
        ],
    );
}

#[test]
fn unsupported_fields() {
    let cases = [
        ("secret eq 'x'", "secret"),
        ("status eq 'Accepted' or Status eq 'x'", "Status"),
        ("contact eq 'x'", "contact"),
        ("contact.phone eq 'x'", "contact.phone"),
        ("customField eq 'x'", "customField"),
        ("'password' is null", "password"),
    ];
    for (filter, field) in cases {
        assert_eq!(
            Filter::parse(filter, Record::FILTER_FIELDS),
            Err(FilterError::UnsupportedField(field.to_owned())),
            "{filter:?}"
        );
    }
    assert_eq!(
        Filter::parse("secret eq 'x'", &[]).map_err(|error| error.to_string()),
        Err("Unsupported filter field: secret".to_owned())
    );
}

#[test]
fn malformed_filters_are_syntax_errors_with_useful_messages() {
    let cases = [
        ("", "the filter is empty"),
        ("   ", "the filter is empty"),
        (
            "status eq 'Accepted",
            "unterminated single-quoted value starting at character 11",
        ),
        (
            r#"title eq "\"Yearly"#,
            "unterminated double-quoted value starting at character 10",
        ),
        (
            "status eq",
            "expected a value for 'eq' after 'eq' at character 8, but the filter ends there",
        ),
        ("status", "expected an operator"),
        (
            "status equals 'Accepted'",
            "unknown operator 'equals' at character 8 after field 'status'",
        ),
        (
            "status eq Accepted",
            "unquoted value 'Accepted' at character 11; text values must be in single or double quotes",
        ),
        (
            "status eq null",
            "unquoted null at character 11; test for null with 'is null'",
        ),
        (
            "status eq 'Accepted' id eq 'abc'",
            "expected 'and', 'or' or the end of the filter at character 22, found 'id'",
        ),
        (
            "(status eq 'Accepted'",
            "unbalanced parentheses: '(' at character 1 is never closed",
        ),
        (
            "status eq 'Accepted')",
            "unbalanced parentheses: ')' at character 21 has no matching '('",
        ),
        (
            "(status eq 'a' id eq 'b')",
            "expected 'and', 'or' or ')' at character 16, found 'id'",
        ),
        (
            "status eq 'Accepted' and",
            "expected a condition after 'and' at character 22, but the filter ends there",
        ),
        (
            "status eq 'a' and or id eq 'b'",
            "expected a condition at character 19, found 'or'",
        ),
        (
            "or status eq 'a'",
            "expected a condition at character 1, found 'or'",
        ),
        ("()", "expected a condition at character 2, found ')'"),
        (
            "not status eq 'a'",
            "'not' at character 1 is not part of Cvent's filter grammar",
        ),
        (
            "status is 'a'",
            "'is' at character 8 must be followed by null, not null, empty or not empty, found the quoted value 'a' at character 11",
        ),
        (
            "status is not",
            "'is' at character 8 must be followed by null, not null, empty or not empty, but the filter ends there",
        ),
        (
            "id in 'a'",
            "expected '(' starting the list of values for 'in'",
        ),
        ("id in ()", "empty value list for 'in' at character 7"),
        (
            "id in ('a' 'b')",
            "expected ',' or ')' in the value list for 'in' at character 12, found the quoted value 'b'",
        ),
        (
            "id in ('a',)",
            "expected a value for 'in' at character 12, found ')'",
        ),
        (
            "id in ('a'",
            "the value list for 'in' opened at character 7 is never closed",
        ),
        (
            "status='Accepted'",
            "invalid character '=' in field name 'status=' at character 7",
        ),
        (
            "contact..email eq 'x'",
            "empty segment in field name 'contact..email' at character 9",
        ),
        (
            "contact. eq 'x'",
            "field name 'contact.' ends with '.' at character 8",
        ),
        (
            r#""status" eq 'x'"#,
            "expected a field name at character 1, found the quoted value \"status\"",
        ),
        ("'' eq 'x'", "empty field name at character 2"),
        (
            "capacity gt 10abc",
            "unquoted value '10abc' at character 13",
        ),
        ("capacity gt inf", "unquoted value 'inf'"),
        (
            "status eq ('a')",
            "expected a value for 'eq' at character 11, found '('",
        ),
        (
            ", status eq 'a'",
            "expected a condition at character 1, found ','",
        ),
        ("stätus eq 'a' )", "')' at character 15 has no matching '('"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(
            |(filter, expected)| match Filter::parse(filter, Record::FILTER_FIELDS) {
                Err(FilterError::Syntax(message)) if message.contains(expected) => None,
                other => Some(format!(
                    "{filter:?}: expected Syntax containing {expected:?}, got {other:?}"
                )),
            },
        )
        .collect();
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let filter = format!("{}id eq 'a'{}", "(".repeat(10_000), ")".repeat(10_000));
    match Filter::parse(&filter, Record::FILTER_FIELDS) {
        Err(FilterError::Syntax(message)) => {
            assert!(message.contains("nested more than 64 deep"), "{message}")
        }
        other => panic!("expected a nesting error, got {other:?}"),
    }
    let fine = format!("{}id eq 'abc'{}", "(".repeat(64), ")".repeat(64));
    assert!(parse(&fine).matches(&attendee()));
}

#[test]
fn syntax_errors_win_over_unsupported_fields() {
    assert!(matches!(
        Filter::parse("secret eq 'x' and", Record::FILTER_FIELDS),
        Err(FilterError::Syntax(_))
    ));
}

#[test]
fn wildcard_and_exact_field_permissions() {
    let allowed = ["event.id", "customField.*"];
    assert!(Filter::parse("customField.abc eq 'x'", &allowed).is_ok());
    assert!(Filter::parse("customField.abc.def eq 'x'", &allowed).is_ok());
    assert!(Filter::parse("event.id eq 'x'", &allowed).is_ok());
    assert!(Filter::parse("event.idx eq 'x'", &allowed).is_err());
    assert!(Filter::parse("Event.id eq 'x'", &allowed).is_err());
    assert!(Filter::parse("customfield.abc eq 'x'", &allowed).is_err());
}

#[test]
fn required_equal_only_under_conjunctions() {
    let cases: [(&str, &str, Option<&str>); 10] = [
        ("event.id eq 'E1'", "event.id", Some("E1")),
        (
            "status eq 'Accepted' and event.id eq 'E1'",
            "event.id",
            Some("E1"),
        ),
        (
            "status eq 'a' AND (id eq 'b' and (event.id eq \"E'1\"))",
            "event.id",
            Some("E'1"),
        ),
        (
            "(status eq 'a' or id eq 'b') and event.id eq 'E1'",
            "event.id",
            Some("E1"),
        ),
        ("capacity eq 10 and id eq 'x'", "capacity", Some("10")),
        ("status eq 'a' or event.id eq 'E1'", "event.id", None),
        (
            "status eq 'a' and (id eq 'b' or event.id eq 'E1')",
            "event.id",
            None,
        ),
        ("event.id ne 'E1'", "event.id", None),
        ("event.id in ('E1', 'E2')", "event.id", None),
        ("status eq 'a'", "event.id", None),
    ];
    for (filter, field, expected) in cases {
        assert_eq!(parse(filter).required_equal(field), expected, "{filter:?}");
    }
}

#[test]
fn lower_bound_is_the_greatest_gt_or_ge_in_the_conjunction() {
    let cases: [(&str, &str, Option<&str>); 9] = [
        (
            "created gt '2024-01-02T00:00:00Z'",
            "created",
            Some("2024-01-02T00:00:00Z"),
        ),
        (
            "created ge '2024-01-02' and status eq 'a'",
            "created",
            Some("2024-01-02"),
        ),
        (
            "created gt '2024-01-02T00:00:00.500Z' and (created ge '2024-01-02T01:00:00+02:00')",
            "created",
            Some("2024-01-02T00:00:00.500Z"),
        ),
        (
            "created ge '2023-12-31' and created gt '2024-01-01T00:00:00Z'",
            "created",
            Some("2024-01-01T00:00:00Z"),
        ),
        ("capacity gt 9 and capacity ge 10", "capacity", Some("10")),
        ("created gt '2024-01-02' or status eq 'a'", "created", None),
        (
            "status eq 'a' and (created gt '2024-01-02' or id eq 'b')",
            "created",
            None,
        ),
        ("created lt '2024-01-02'", "created", None),
        ("created eq '2024-01-02'", "created", None),
    ];
    for (filter, field, expected) in cases {
        assert_eq!(parse(filter).lower_bound(field), expected, "{filter:?}");
    }
}

#[test]
fn upper_bound_is_the_smallest_lt_or_le_in_the_conjunction() {
    let cases: [(&str, Option<&str>); 5] = [
        (
            "created ge '2024-01-01T00:00:00Z' and created lt '2024-02-01T00:00:00Z'",
            Some("2024-02-01T00:00:00Z"),
        ),
        (
            "created le '2024-03-01T00:00:00Z' and created lt '2024-02-01T00:00:00Z'",
            Some("2024-02-01T00:00:00Z"),
        ),
        ("created lt '2024-02-01' or status eq 'a'", None),
        ("created gt '2024-02-01'", None),
        (
            "status eq 'a' and (created lt '2024-02-01' or id eq 'b')",
            None,
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(parse(filter).upper_bound("created"), expected, "{filter:?}");
    }
}

#[test]
fn mentions_and_fields() {
    let filter = parse("status eq 'a' or (event.id eq 'b' and status ne 'c')");
    assert!(filter.mentions("status"));
    assert!(filter.mentions("event.id"));
    assert!(!filter.mentions("id"));
    assert_eq!(filter.fields(), vec!["status", "event.id"]);
    assert_eq!(
        filter.source(),
        "status eq 'a' or (event.id eq 'b' and status ne 'c')"
    );
}

#[test]
fn parsed_literals_are_analysed_once() {
    let Filter {
        root: Expr::Condition(condition),
        ..
    } = parse("created ge '2024-01-02T03:04:05.000Z'")
    else {
        panic!("a single condition should not be wrapped");
    };
    let Test::Compare(Comparison::Ge, literal) = condition.test else {
        panic!("expected a ge comparison");
    };
    assert_eq!(literal.instant, parse_instant("2024-01-02T03:04:05Z"));
    assert_eq!(literal.number, None);
}

#[test]
fn instants_and_numbers_parse_strictly() {
    assert!(parse_instant("2024-01-02").is_some());
    assert!(parse_instant("2024-01-02T03:04:05.123456789-05:30").is_some());
    assert!(parse_instant("2024-02-30").is_none());
    assert!(parse_instant("2024-01-02T25:00:00Z").is_none());
    assert!(parse_instant("20240102").is_none());
    assert!(parse_instant("abc").is_none());
    assert_eq!(parse_number("-1.5e3"), Some(-1500.0));
    assert_eq!(parse_number("NaN"), None);
    assert_eq!(parse_number("-inf"), None);
    assert_eq!(parse_number("1e999"), None);
    assert_eq!(parse_number("12abc"), None);
}
