//! How many Cvent-shaped attendee records per second the pipeline steps handle: flatten alone,
//! then flatten + map, then the whole flatten → map → validate → diff.
//!
//! Run: `cargo bench -p pipeline --bench flatten_map` (set `PIPELINE_BENCH_RECORDS` to choose
//! how many records each step runs over, default 200000, and `PIPELINE_BENCH_DISTINCT` for how
//! many distinct records they cycle through, default 1000).

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use pipeline::{DataType, Mapping, Rule, ValueMap, diff, flatten, merge, validate};
use serde_json::{Value, json};

fn attendee(index: usize) -> Value {
    json!({
        "id": format!("7c1f5d2e-0a4b-4c39-9d0e-{index:012}"),
        "event": {"id": "b0e3c1a2-5d4f-4e6a-8b7c-9d0e1f2a3b4c"},
        "confirmationNumber": format!("QJ7K{index:06}"),
        "contact": {
            "id": format!("4f6a8b2c-1d3e-4a5b-8c7d-{index:012}"),
            "firstName": "Ada",
            "lastName": format!("Lovelace {index}"),
            "email": format!("ada{index}@example.com"),
            "company": "Analytical Society",
            "title": "Mathematician",
            "type": {"id": "ct-1", "name": "Attendee"},
            "workAddress": {
                "address1": "12 St James's Square",
                "city": "London",
                "countryCode": "GB"
            },
            "workPhone": "+44 20 7946 0000",
            "mobilePhone": "",
            "customFields": [
                {"id": "cf-diet", "name": "Dietary needs", "value": ["Vegetarian"], "order": 1},
                {"id": "cf-langs", "name": "Languages", "value": ["Rust", "Python"], "order": 2}
            ],
            "_links": {"profilePicture": {"href": "https://example.com/ada.jpg"}},
            "created": "2025-01-10T08:00:00Z",
            "lastModified": "2025-02-01T10:15:30.250Z"
        },
        "checkedIn": false,
        "registrationType": {"id": "rt-1", "code": "FULL", "name": "Full Conference"},
        "guest": false,
        "deletedGuest": false,
        "status": if index.is_multiple_of(10) { "Cancelled" } else { "Accepted" },
        "registeredAt": "2025-01-10T08:05:00Z",
        "answers": [
            {"question": {"id": "q-tshirt"}, "value": ["M"]},
            {"question": {"id": "q-topics"}, "value": ["Analytical engines", "Poetry"]}
        ],
        "created": "2025-01-10T08:05:00Z",
        "lastModified": "2025-02-01T10:15:30.250Z"
    })
}

fn mapping() -> Mapping {
    let status = ValueMap::new([("Cancelled", "cancelled"), ("Declined", "cancelled")])
        .with_default("active");
    Mapping {
        rules: vec![
            Rule::new("id", "external_id"),
            Rule::new("status", "status").with_values(status),
            Rule::new("contact.firstName", "first_name"),
            Rule::new("contact.lastName", "last_name"),
            Rule::new("contact.email", "email"),
            Rule::new("contact.company", "company"),
            Rule::new("contact.title", "title"),
            Rule::new("contact.mobilePhone", "phone"),
            Rule::new("registrationType.name", "registration_type"),
            Rule::new("guest", "is_guest"),
            Rule::new("primaryId", "primary_external_id"),
            Rule::new("contact.id", "contact_id"),
            Rule::new("contact._links.profilePicture.href", "photo_url"),
            Rule::new("contact.customFields.0.value.0", "custom.diet"),
            Rule::new("answers.0.value.0", "custom.tshirt"),
        ],
    }
}

fn report(step: &str, records: usize, elapsed: Duration) {
    let per_second = records as f64 / elapsed.as_secs_f64();
    let per_record = elapsed.as_nanos() as f64 / records as f64;
    println!("{step:<32} {per_second:>12.0} records/s {per_record:>9.0} ns/record");
}

fn main() {
    let count: usize = std::env::var("PIPELINE_BENCH_RECORDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200_000);
    // Distinct records, cycled: realistic variety (and cache misses) without holding `count`
    // of them. `PIPELINE_BENCH_DISTINCT=1` measures the steps with the record hot in cache.
    let distinct: usize = std::env::var("PIPELINE_BENCH_DISTINCT")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1000)
        .max(1);
    let records: Vec<Value> = (0..distinct).map(attendee).collect();
    let mapping = mapping();
    if let Err(error) = mapping.validate(DataType::People) {
        eprintln!("the benchmark's mapping is invalid: {error}");
        std::process::exit(1);
    }

    let start = Instant::now();
    for index in 0..count {
        black_box(flatten(black_box(&records[index % records.len()])));
    }
    report("flatten", count, start.elapsed());

    let start = Instant::now();
    for index in 0..count {
        let flat = flatten(black_box(&records[index % records.len()]));
        black_box(mapping.apply(&flat, DataType::People));
    }
    report("flatten + map", count, start.elapsed());

    let start = Instant::now();
    let mut stored = 0usize;
    for index in 0..count {
        let flat = flatten(black_box(&records[index % records.len()]));
        let mut mapped = mapping.apply(&flat, DataType::People);
        let empty: BTreeSet<String> = std::mem::take(&mut mapped.empty);
        let Ok(record) = validate(mapped, DataType::People) else {
            continue;
        };
        // Half the records meet their own stored copy, half are new.
        let existing = (index % 2 == 0).then(|| merge(None, &record, &empty));
        black_box(diff(&record, &empty, existing.as_ref()));
        stored += 1;
    }
    report("flatten + map + validate + diff", count, start.elapsed());
    println!("({stored} of {count} records valid)");
}
