//! Properties of the webhook intake's envelope reader: any JSON body is read or refused without
//! a panic, and an envelope with its parts present is always read, its text trimmed.

use proptest::prelude::*;
use serde_json::{Value, json};
use server::webhooks::read_envelope;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("eventType".to_string()),
                    Just("messageStub".to_string()),
                    Just("messageTime".to_string()),
                    Just("message".to_string()),
                    any::<String>(),
                ],
                inner,
                0..5
            )
            .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_body_is_read_or_refused_without_a_panic(body in json_value()) {
        if let Ok(envelope) = read_envelope(&body) {
            prop_assert!(!envelope.event_type.is_empty());
            prop_assert!(!envelope.message_stub.is_empty());
        }
    }

    #[test]
    fn an_envelope_with_its_parts_is_read(
        event_type in "\\PC*[a-zA-Z]\\PC*",
        stub in "[ \t]{0,2}[0-9A-F-]{1,36}[ \t]{0,2}",
        time in any::<String>(),
    ) {
        let body = json!({
            "eventType": event_type,
            "messageTime": time,
            "messageStub": stub,
            "message": [{"id": "x"}],
        });
        let envelope = read_envelope(&body).map_err(TestCaseError::fail)?;
        prop_assert_eq!(envelope.event_type, event_type.trim());
        prop_assert_eq!(envelope.message_stub, stub.trim());
        let time = time.trim();
        prop_assert_eq!(envelope.message_time.as_deref(), (!time.is_empty()).then_some(time));
    }
}
