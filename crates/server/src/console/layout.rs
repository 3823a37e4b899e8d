//! The frame every console page shares: the navigation, the stylesheet, and small helpers to
//! show API values.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

/// Which part of the navigation a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    None,
    Connections,
    Runs,
    Outbox,
    Webhooks,
}

const NAVIGATION: [(Section, &str, &str); 4] = [
    (Section::Connections, "/console/connections", "Connections"),
    (Section::Runs, "/console/runs", "Runs"),
    (Section::Outbox, "/console/outbox", "Outbox"),
    (Section::Webhooks, "/console/webhooks", "Webhooks"),
];

pub(crate) fn page(title: &str, section: Section, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · eventsync" }
                    link rel="stylesheet" href="/console/style.css";
                }
                body {
                    a.skip href="#main" { "Skip to the content" }
                    header {
                        span.brand { "eventsync" }
                        @if section != Section::None || title != "Sign in" {
                            nav aria-label="Main" {
                                ul {
                                    @for (place, href, label) in NAVIGATION {
                                        li {
                                            a href=(href) aria-current=[(place == section).then_some("page")] { (label) }
                                        }
                                    }
                                }
                            }
                            form.sign-out method="post" action="/console/sign-out" {
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                    main #main tabindex="-1" { (body) }
                }
            }
        }
        .into_string(),
    )
}

/// A page that reloads itself every `seconds` (a run that is still going).
pub(crate) fn refreshing(page: Html<String>, seconds: u32) -> Html<String> {
    Html(page.0.replacen(
        "<head>",
        &format!("<head><meta http-equiv=\"refresh\" content=\"{seconds}\">"),
        1,
    ))
}

pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("style.css"),
    )
}

/// A JSON value as a person reads it: no quotes on strings, a dash for nothing.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(text) if text.is_empty() => "—".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// An RFC 3339 time shortened to the minute, in UTC, or a dash.
pub(crate) fn when(value: &Value) -> String {
    match value.as_str() {
        Some(time) if time.len() >= 16 => format!("{} {} UTC", &time[..10], &time[11..16]),
        _ => "never".into(),
    }
}

/// A whole number with thin groups of thousands.
pub(crate) fn number(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration in seconds as "5 min" or "2 h 30 min".
pub(crate) fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        _ if seconds.is_multiple_of(3600) => format!("{} h", seconds / 3600),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// A notice at the top of a page, from the `notice` query parameter a form's redirect set.
pub(crate) fn notice(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message.filter(|m| !m.is_empty()) {
            p.notice role="status" { (message) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_people_read_them() {
        assert_eq!(text(&json!(null)), "—");
        assert_eq!(text(&json!("x")), "x");
        assert_eq!(text(&json!(["a", "b"])), "a, b");
        assert_eq!(when(&json!("2026-12-07T19:53:11Z")), "2026-12-07 19:53 UTC");
        assert_eq!(when(&json!(null)), "never");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(number(999), "999");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(900), "15 min");
        assert_eq!(duration(7200), "2 h");
        assert_eq!(duration(9000), "2 h 30 min");
    }
}
