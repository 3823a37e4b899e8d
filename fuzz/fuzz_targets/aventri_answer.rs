//! Aventri's listing answers on any bytes: the first byte picks the data type and the HTTP
//! status, the rest is the body.
#![no_main]

use std::sync::LazyLock;

use connectors::RetryPolicy;
use connectors::aventri::{Aventri, AventriConfig, DATA_TYPES, PAGE_SIZE, parse_statuses};

const STATUSES: [u16; 6] = [200, 400, 401, 404, 500, 502];

static AVENTRI: LazyLock<Option<Aventri>> = LazyLock::new(|| {
    Aventri::new(AventriConfig {
        connection: "aventri".into(),
        endpoint: "http://127.0.0.1:9/api/v2".into(),
        account_id: "1".into(),
        key: "k".into(),
        event_id: "2".into(),
        active_statuses: parse_statuses("Confirmed, Attended"),
        modified_since_overlap: chrono::Duration::days(1),
        presenter_photo_endpoint: None,
        person_photo_endpoint: None,
        concurrent_sessions_title: Some("Concurrent sessions".into()),
        sponsor_category: "Sponsor".into(),
        utc_offset: chrono::FixedOffset::east_opt(2 * 3600)?,
        page_size: PAGE_SIZE,
        retry: RetryPolicy::default(),
    })
    .ok()
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(aventri) = AVENTRI.as_ref() else {
        panic!("the connector's configuration is valid");
    };
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let selector = usize::from(selector);
    let data_type = DATA_TYPES[selector % DATA_TYPES.len()];
    let status = STATUSES[selector / DATA_TYPES.len() % STATUSES.len()];
    if let Ok(Some(records)) = aventri.read_answer(data_type, status, body) {
        for record in records {
            let _ = record.json();
        }
    }
});
