//! Full listings split into parts fetched side by side, against each vendor's sandbox over
//! HTTP: a split listing brings exactly what a page-by-page listing brings, and a listing
//! resumed from the token of any page it handed on misses nothing.

use std::time::Duration;

use chrono::FixedOffset;
use connectors::aventri::{Aventri, AventriConfig};
use connectors::cvent_rest::{CventRest, CventRestConfig};
use connectors::cvent_soap::{Credentials, CventSoap, CventSoapConfig};
use connectors::{AnyConnector, PullMode, PullSpec, RetryPolicy, StatusQuery, VendorPage};
use pipeline::DataType;
use sandboxes::aventri::AventriSandbox;
use sandboxes::cvent_rest::CventRestSandbox;
use sandboxes::cvent_soap::{CventSoapSandbox, SoapSandboxConfig};

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(5),
    max: Duration::from_millis(40),
    attempts: 5,
};

fn spec(concurrency: usize, resume_token: Option<String>) -> PullSpec {
    PullSpec {
        data_type: DataType::People,
        mode: PullMode::Full,
        resume_token,
        statuses: StatusQuery::Any,
        concurrency,
    }
}

/// Every page of a listing, stopping after `stop` pages when given.
async fn pages(connector: &AnyConnector, spec: PullSpec, stop: Option<usize>) -> Vec<VendorPage> {
    let mut pull = connector.pull(spec).await.expect("pull");
    let mut pages = Vec::new();
    while let Some(page) = pull.next_page().await.expect("page") {
        let last = page.next_token.is_none();
        pages.push(page);
        if last || stop == Some(pages.len()) {
            break;
        }
    }
    pages
}

fn texts(pages: &[VendorPage]) -> Vec<String> {
    let mut texts: Vec<String> = pages
        .iter()
        .flat_map(|page| page.records.iter().map(|r| r.raw.get().to_string()))
        .collect();
    texts.sort();
    texts
}

/// The split listing equals the page-by-page one, says how it was split, ends on its last page
/// only, and resumes from any page's token without missing a record.
async fn splits_exactly(connector: &AnyConnector, expected_records: usize) {
    let sequential = texts(&pages(connector, spec(1, None), None).await);
    assert_eq!(sequential.len(), expected_records);
    let split = pages(connector, spec(4, None), None).await;
    let plan = split[0].plan.expect("the listing was split");
    assert!(plan.partitions >= 2, "{plan:?}");
    assert!(split.iter().skip(1).all(|page| page.plan.is_none()));
    let last = split.len() - 1;
    for (index, page) in split.iter().enumerate() {
        assert_eq!(page.next_token.is_none(), index == last, "page {index}");
    }
    let split_texts = texts(&split);
    assert_eq!(split_texts.len(), sequential.len(), "no record twice");
    assert_eq!(split_texts, sequential);
    for stop in [1, 2, split.len() / 2, split.len() - 1] {
        let before = pages(connector, spec(4, None), Some(stop)).await;
        let token = before.last().and_then(|page| page.next_token.clone());
        let after = pages(connector, spec(4, token), None).await;
        let mut union = texts(&before);
        union.extend(texts(&after));
        union.sort();
        union.dedup();
        assert_eq!(union, sequential, "stopped after {stop} pages");
    }
}

#[tokio::test]
async fn cvent_rest_splits_by_ranges_of_creation_time() {
    let sandbox = CventRestSandbox::start(sandboxes::cvent_rest::SandboxConfig {
        attendees: 3_000,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let connector = CventRest::new(
        CventRestConfig {
            connection: "cvent".into(),
            base_url: sandbox.base_url(),
            event_code: sandbox.event_code().to_string(),
            client_id: sandbox.client_id().to_string(),
            client_secret: sandbox.client_secret().to_string(),
            retry: FAST_RETRY,
        },
        &[DataType::People],
        Default::default(),
    )
    .expect("connector");
    splits_exactly(&AnyConnector::CventRest(connector), 3_000).await;
}

#[tokio::test]
async fn aventri_reads_stripes_of_offsets() {
    let sandbox = AventriSandbox::start(sandboxes::aventri::SandboxConfig {
        attendees: 2_300,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let connector = Aventri::new(AventriConfig {
        connection: "aventri".into(),
        endpoint: sandbox.endpoint(),
        account_id: sandbox.account_id().into(),
        key: sandbox.master_key().into(),
        event_id: sandbox.event_id(),
        active_statuses: vec!["Confirmed".into(), "Attended".into()],
        modified_since_overlap: chrono::Duration::days(1),
        presenter_photo_endpoint: None,
        person_photo_endpoint: None,
        concurrent_sessions_title: None,
        sponsor_category: "Sponsor".into(),
        utc_offset: FixedOffset::east_opt(0).expect("UTC"),
        page_size: 200,
        retry: FAST_RETRY,
    })
    .expect("connector");
    let connector = AnyConnector::Aventri(connector);
    let people = texts(&pages(&connector, spec(1, None), None).await).len();
    assert!(people > 1_000, "most attendees are people: {people}");
    splits_exactly(&connector, people).await;
}

#[tokio::test]
async fn cvent_soap_retrieves_batches_side_by_side() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 1_200,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let connector = CventSoap::new(
        CventSoapConfig {
            credentials: Credentials {
                connection: "cvent".into(),
                login_url: sandbox.base_url(),
                account_number: sandbox.account_number().into(),
                user_name: sandbox.user_name().into(),
                password: sandbox.password().into(),
            },
            event_code: sandbox.event_code(),
            retry: FAST_RETRY,
        },
        Default::default(),
    )
    .expect("connector");
    let connector = AnyConnector::CventSoap(connector);
    let people = texts(&pages(&connector, spec(1, None), None).await).len();
    assert!(people >= 1_200, "registrations and their guests: {people}");
    splits_exactly(&connector, people).await;
}
