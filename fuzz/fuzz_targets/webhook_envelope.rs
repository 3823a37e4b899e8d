//! The webhook intake's envelope reader on any JSON body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(envelope) = server::webhooks::read_envelope(&body) {
        assert!(!envelope.event_type.is_empty() && !envelope.message_stub.is_empty());
    }
});
