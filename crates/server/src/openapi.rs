//! The OpenAPI 3.1 document served at `/openapi.json`: every route the server has, with the
//! shapes of its requests, answers and errors. A test checks it against the router.

use serde_json::{Value, json};

use crate::input;

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn list_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data", "next"],
        "properties": {
            "data": {"type": "array", "items": item},
            "next": {"type": ["string", "integer", "null"]}
        }
    })
}

fn parameter(name: &str, location: &str, schema: Value, description: &str) -> Value {
    json!({
        "name": name,
        "in": location,
        "required": location == "path",
        "schema": schema,
        "description": description
    })
}

/// A path parameter that is one of the server's own numeric ids (runs, outbox items).
fn path_number(name: &str) -> Value {
    parameter(
        name,
        "path",
        json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
        "a positive number",
    )
}

fn path_id(name: &str) -> Value {
    parameter(name, "path", json!({"type": "string"}), "an id")
}

/// The query parameter that filters a list on one field's exact value.
fn field_filter(field: &pipeline::Field) -> Value {
    use pipeline::FieldType;
    let (schema, what) = match field.field_type {
        FieldType::Text => (json!({"type": "string"}), "text"),
        FieldType::Bool => (
            json!({"type": "string", "enum": ["true", "false"]}),
            "true or false",
        ),
        FieldType::Integer => (json!({"type": "integer"}), "a whole number"),
        FieldType::Timestamp => (
            json!({"type": "string"}),
            "a time as the list shows it, to the second (2026-05-01T09:00:00Z)",
        ),
        FieldType::Enum(values) => (
            json!({"type": "string", "enum": values}),
            "one of its values",
        ),
    };
    parameter(
        field.name,
        "query",
        schema,
        &format!("only records whose {} is exactly this ({what})", field.name),
    )
}

/// `GET` of one data type's records: paging, a filter per field of the data type, and
/// `include_hidden` where records may be hidden.
fn workspace_list(list: &crate::routes::records::RecordList) -> Value {
    let mut parameters = vec![
        parameter(
            "connection",
            "query",
            json!({"type": "string"}),
            "the connection; may be left out when only one is configured",
        ),
        parameter(
            "after",
            "query",
            json!({"type": "string"}),
            "the `next` of the previous page",
        ),
        parameter(
            "limit",
            "query",
            json!({"type": "integer", "minimum": 1, "maximum": 500}),
            "records per page (100)",
        ),
    ];
    if crate::routes::records::hides(list.data_type) {
        parameters.push(parameter(
            "include_hidden",
            "query",
            json!({"type": "string", "enum": ["true", "false"]}),
            "include hidden records (false)",
        ));
    }
    parameters.push(parameter(
        "external_id",
        "query",
        json!({"type": "string"}),
        "only the record with this id",
    ));
    parameters.extend(
        list.data_type
            .fields()
            .iter()
            .filter(|field| field.name != "external_id")
            .map(field_filter),
    );
    json!({
        "get": {
            "summary": list.summary,
            "description": format!(
                "The workspace's {} records in external-id order. Each field parameter filters on the field's exact value; a custom field filters as `custom.<name>=…`; all filters must hold.",
                list.data_type
            ),
            "parameters": parameters,
            "responses": standard(json_response("a page", list_of(json!({"$ref": "#/components/schemas/Record"}))))
        }
    })
}

/// The answers every API operation may give besides its own.
fn standard(ok: Value) -> Value {
    json!({
        "200": ok,
        "400": error_response("the request is malformed (a NUL character or a string past its maxLength included); the message names what to fix"),
        "401": error_response("no valid bearer token"),
        "403": error_response("the caller's address is not allowed, or the token's scope does not allow this operation (`x-required-scope`)"),
        "404": error_response("no such record or route"),
        "414": {"description": "the URI is longer than the server reads"},
        "503": error_response("the request took longer than the server's request timeout")
    })
}

fn with(mut responses: Value, status: &str, response: Value) -> Value {
    responses[status] = response;
    responses
}

fn accepted_write() -> Value {
    json!({
        "description": "stored in the outbox; the worker sends it to the vendor",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OutboxItem"}}}
    })
}

/// `POST /v1/sessions` beside the agenda's `GET`.
fn local_sessions(mut path: Value) -> Value {
    path["post"] = json!({
        "summary": "Creates a session in the workspace only: never sent to the vendor, never removed by a sync; registrations to it stay in the workspace",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["title", "starts_at", "ends_at"],
            "additionalProperties": false,
            "properties": {
                "connection": {"type": ["string", "null"]},
                "title": {"type": "string", "minLength": 1, "pattern": "\\S"},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
                "code": {"type": ["string", "null"]},
                "description": {"type": ["string", "null"]},
                "location": {"type": ["string", "null"]},
                "capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295u64},
                "hidden": {"type": "boolean"}
            }
        }}}},
        "responses": with(
            with(
                without_ok(standard(json!({}))),
                "201",
                json_response("the session, with its workspace id (local-…)", json!({"$ref": "#/components/schemas/Record"})),
            ),
            "413",
            error_response("the body is too large"),
        )
    });
    path
}

fn without_ok(mut responses: Value) -> Value {
    if let Some(responses) = responses.as_object_mut() {
        responses.remove("200");
    }
    responses
}

pub fn document() -> Value {
    let change_page = json!({
        "type": "object",
        "required": ["data", "next", "position"],
        "properties": {
            "data": {"type": "array", "items": {
                "type": "object",
                "required": ["position", "connection", "data_type", "external_id", "action", "before", "after", "run_id", "at"],
                "properties": {
                    "position": {"type": "integer"},
                    "connection": {"type": "string"},
                    "data_type": {"type": "string"},
                    "external_id": {"type": "string"},
                    "action": {"type": "string", "enum": ["create", "update", "cancel", "remove"]},
                    "before": {"type": ["object", "null"]},
                    "after": {"type": ["object", "null"]},
                    "run_id": {"type": ["integer", "null"]},
                    "at": {"type": "string", "format": "date-time"}
                }
            }},
            "next": {"type": ["integer", "null"]},
            "position": {"type": "integer"}
        }
    });
    let outbox_item = json!({"$ref": "#/components/schemas/OutboxItem"});
    let run = json!({"$ref": "#/components/schemas/Run"});
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let mut register_responses = standard(json_response("unused", json!({})));
    register_responses.as_object_mut().map(|r| r.remove("200"));
    let register_responses = with(
        with(
            with(register_responses, "202", accepted_write()),
            "201",
            json_response(
                "registered to a session created in the workspace: recorded there only, nothing is sent",
                json!({"$ref": "#/components/schemas/Registration"}),
            ),
        ),
        "409",
        error_response("already registered, or the session is full"),
    );
    let mut write_responses = standard(json_response("unused", json!({})));
    write_responses.as_object_mut().map(|r| r.remove("200"));
    let write_responses = with(write_responses, "202", accepted_write());
    let mut start_responses = standard(json_response("unused", json!({})));
    start_responses.as_object_mut().map(|r| r.remove("200"));
    let start_responses = with(
        with(
            start_responses,
            "202",
            json_response(
                "the run started",
                json!({"type": "object", "required": ["run_id"], "properties": {"run_id": {"type": "integer"}}}),
            ),
        ),
        "409",
        error_response("the connection has a run going"),
    );
    let webhook_responses = json!({
        "200": json_response("acknowledged", json!({
            "type": "object",
            "properties": {"received": {"type": "boolean"}, "duplicate": {"type": "boolean"}}
        })),
        "400": error_response("not a Cvent webhook envelope, or a NUL character or an overlong envelope field in it"),
        "401": error_response("the Authorization header does not carry the webhook token"),
        "403": error_response("webhooks are off, or the caller's address is not allowed"),
        "404": error_response("no such connection")
    });
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "eventsync",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The event workspace as an event app and a check-in desk read it, the app's writes back to the vendor, runs, and vendor webhooks. No string a client sends may hold a NUL character (U+0000), anywhere in a body included, or run past its `maxLength`: either is a 400 whose message names the field."
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {
                "summary": "Whether the server and its database answer",
                "security": [],
                "responses": {
                    "200": json_response("healthy", json!({"type": "object", "properties": {"status": {"type": "string"}}})),
                    "403": error_response("the caller's address is not allowed")
                }
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics",
                "security": [],
                "responses": {
                    "200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "403": error_response("the caller's address is not allowed")
                }
            }},
            "/openapi.json": {"get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": json_response("the document", json!({"type": "object"}))}
            }},
            "/webhooks/cvent/{connection}": {
                "parameters": [path_id("connection")],
                "get": {
                    "summary": "Cvent's validation call",
                    "security": [{"webhook": []}],
                    "responses": webhook_responses.clone()
                },
                "post": {
                    "summary": "A Cvent webhook delivery",
                    "security": [{"webhook": []}],
                    "requestBody": body(json!({"$ref": "#/components/schemas/WebhookEnvelope"})),
                    "responses": with(webhook_responses, "413", error_response("the body is too large"))
                }
            },
            "/v1/connections": {"get": {
                "summary": "The configured connections (never their secrets)",
                "responses": standard(json_response("the connections", json!({
                    "type": "object",
                    "properties": {"data": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "kind": {"type": "string"},
                        "data_types": {"type": "array", "items": {"type": "string"}},
                        "event_id": {"type": ["string", "null"]}, "event_title": {"type": ["string", "null"]}
                    }}}}
                })))
            }},
            "/v1/connections/{connection}/check": {"post": {
                "summary": "Checks credentials, tier, event code and a read per data type",
                "parameters": [path_id("connection")],
                "responses": standard(json_response("the findings", json!({
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}, "findings": {"type": "array", "items": {"type": "object"}}}
                })))
            }},
            "/v1/connections/{connection}/imis/import-event": crate::imis_routes::openapi_path(),
            "/v1/connections/{connection}/data-types": {"get": {
                "summary": "Per data type: records, last synced, auto-sync settings; the recommended interval and the vendor account's plan, with their arithmetic",
                "parameters": [path_id("connection")],
                "responses": standard(json_response("the data types", json!({
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"type": "object", "properties": {
                            "data_type": {"type": "string"},
                            "records": {"type": "integer"},
                            "last_synced_at": {"type": ["string", "null"]},
                            "totals": totals_schema(),
                            "auto_sync": {"type": "object", "properties": {
                                "enabled": {"type": "boolean"},
                                "interval_seconds": {"type": "integer", "description": "the interval in force: set by hand, or the account plan's"},
                                "planned": {"type": "boolean", "description": "whether the account plan sets the interval"}
                            }}
                        }}},
                        "auto_sync_end": {"anyOf": [{"type": "null"}, {
                            "type": "object",
                            "description": "auto sync stops 7 days after the event's end date; null when the vendor gave none",
                            "required": ["event_end", "stops_at", "stopped", "reason"],
                            "properties": {
                                "event_end": {"type": "string"}, "stops_at": {"type": "string"},
                                "stopped": {"type": "boolean"}, "reason": {"type": "string"}
                            }
                        }]},
                        "recommended_interval": {"type": "object", "properties": {
                            "interval_seconds": {"type": "integer"},
                            "steps": {"type": "array", "items": {"type": "string"}}
                        }},
                        "account_plan": {"anyOf": [{"type": "null"}, account_plan_schema()]}
                    }
                })))
            }},
            "/v1/connections/{connection}/data-types/{data_type}/auto-sync": {"put": {
                "summary": "Turns auto sync of one data type on or off and sets its interval (null: the account plan's)",
                "parameters": [path_id("connection"), path_id("data_type")],
                "requestBody": body(json!({
                    "type": "object",
                    "required": ["enabled"],
                    "additionalProperties": false,
                    "properties": {"enabled": {"type": "boolean"}, "interval_seconds": {
                        "type": ["integer", "null"], "minimum": 60, "maximum": 4294967295u64,
                        "description": "set by hand, it wins over the account plan; null or left out, the plan sets it"
                    }}
                })),
                "responses": with(standard(json_response("the stored setting", json!({"type": "object", "properties": {
                    "connection": {"type": "string"}, "data_type": {"type": "string"},
                    "enabled": {"type": "boolean"}, "interval_seconds": {"type": "integer", "description": "0 when the account plan sets it"}, "updated_at": {"type": "string"},
                    "planned": {"type": "boolean"},
                    "plan_warnings": {"type": "array", "items": {"type": "string"}, "description": "e.g. the intervals set by hand together pass the account's quota"}
                }}))), "413", error_response("the body is too large"))
            }},
            "/v1/runs": {
                "get": {
                    "summary": "Run history, newest first",
                    "parameters": [
                        parameter("connection", "query", json!({"type": "string"}), "only this connection's runs"),
                        parameter("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 500}), "how many (100)")
                    ],
                    "responses": standard(json_response("the runs", json!({"type": "object", "properties": {"data": {"type": "array", "items": run.clone()}}})))
                },
                "post": {
                    "summary": "Starts a preview or a sync",
                    "requestBody": body(json!({
                        "type": "object",
                        "required": ["connection", "kind"],
                        "additionalProperties": false,
                        "properties": {
                            "connection": {"type": "string"},
                            "kind": {"type": "string", "enum": ["preview", "sync"]},
                            "data_types": {"type": ["array", "null"], "items": {"type": "string"}},
                            "full": {"type": "boolean"}
                        }
                    })),
                    "responses": with(start_responses, "413", error_response("the body is too large"))
                }
            },
            "/v1/runs/{id}": {"get": {
                "summary": "One run: status, counts per data type and action, calls, errors",
                "parameters": [path_number("id")],
                "responses": standard(json_response("the run", run.clone()))
            }},
            "/v1/runs/{id}/report": {"get": {
                "summary": "A preview's report, one row per record",
                "description": "CSV or an XLSX workbook with the same rows and columns: `format` chooses; without it, the `Accept` header does (text/csv or the XLSX media type), and CSV when neither says. The CSV report answers one `Range: bytes=first-last` with those bytes (206), so a reader can fetch rows at places it knows.",
                "parameters": [path_number("id"), parameter("format", "query", json!({"type": "string", "enum": ["csv", "xlsx"]}), "csv or xlsx; overrides Accept")],
                "responses": with(
                    with(standard(json!({"description": "the report", "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        crate::reports::XLSX: {"schema": {"type": "string", "format": "binary"}}
                    }})), "406", error_response("the Accept header names neither text/csv nor the XLSX media type")),
                    "500", error_response("the report file could not be read")).as_object().cloned().map(|mut responses| {
                        responses.insert("409".into(), error_response("the run is still going: its report is ready when it ends"));
                        responses.insert("206".into(), json!({"description": "the bytes of the CSV report a `Range: bytes=first-last` header asked for (one range), with `Content-Range`", "content": {"text/csv": {"schema": {"type": "string"}}}}));
                        responses.insert("416".into(), json!({"description": "the range asked for starts past the CSV report's end; `Content-Range` gives its length"}));
                        Value::Object(responses)
                    }).unwrap_or_default()
            }},
            "/v1/events": {"get": {
                "summary": "The events of the connections",
                "responses": standard(json_response("the events", list_of(json!({"type": "object"}))))
            }},
            "/v1/people/{id}/sessions": {"get": {
                "summary": "A person's sessions, with the state of their registration",
                "parameters": [path_id("id"), parameter("connection", "query", json!({"type": "string"}), "the connection")],
                "responses": standard(json_response("the sessions", list_of(json!({"type": "object", "properties": {
                    "registration": {"$ref": "#/components/schemas/Registration"},
                    "session": {"anyOf": [{"$ref": "#/components/schemas/Record"}, {"type": "null"}]}
                }}))))
            }},
            "/v1/sessions/{id}/registrations": {
                "parameters": [path_id("id")],
                "get": {
                    "summary": "A session's registrations: imported, and written from the app with their delivery state",
                    "parameters": [parameter("connection", "query", json!({"type": "string"}), "the connection")],
                    "responses": standard(json_response("the registrations", list_of(json!({"$ref": "#/components/schemas/Registration"}))))
                },
                "post": {
                    "summary": "Registers a person, checked against the session's capacity, and sends it to the vendor",
                    "requestBody": body(json!({
                        "type": "object",
                        "required": ["person_id"],
                        "additionalProperties": false,
                        "properties": {"person_id": {"type": "string"}, "connection": {"type": ["string", "null"]}}
                    })),
                    "responses": with(register_responses, "413", error_response("the body is too large"))
                }
            },
            "/v1/sessions/{id}/registrations/{person_id}": {"delete": {
                "summary": "Unregisters a person and sends it to the vendor (from a session created in the workspace: removed there, nothing is sent)",
                "parameters": [path_id("id"), path_id("person_id"), parameter("connection", "query", json!({"type": "string"}), "the connection")],
                "responses": with(write_responses.clone(), "204", json!({"description": "removed from a session created in the workspace"}))
            }},
            "/v1/check-ins": {
                "get": {
                    "summary": "Check-ins written from the app, with their delivery state",
                    "parameters": [
                        parameter("connection", "query", json!({"type": "string"}), "the connection"),
                        parameter("person_id", "query", json!({"type": "string"}), "one person's"),
                        parameter("after", "query", json!({"type": "integer"}), "the `next` of the previous page"),
                        parameter("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 500}), "how many (100)")
                    ],
                    "responses": standard(json_response("the check-ins", list_of(outbox_item.clone())))
                },
                "post": {
                    "summary": "Checks a person in; sent to the vendor in batches of up to 100",
                    "requestBody": body(json!({
                        "type": "object",
                        "required": ["person_id"],
                        "additionalProperties": false,
                        "properties": {"person_id": {"type": "string"}, "connection": {"type": ["string", "null"]}, "at": {"type": ["string", "null"], "format": "date-time"}}
                    })),
                    "responses": with(write_responses, "413", error_response("the body is too large"))
                }
            },
            "/v1/outbox": {"get": {
                "summary": "Writes to vendors and their state",
                "parameters": [
                    parameter("connection", "query", json!({"type": "string"}), "the connection"),
                    parameter("status", "query", json!({"type": "string", "enum": ["pending", "sending", "sent", "failed", "local"]}), "only this state"),
                    parameter("person_id", "query", json!({"type": "string"}), "one person's"),
                    parameter("after", "query", json!({"type": "integer"}), "the `next` of the previous page"),
                    parameter("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 500}), "how many (100)")
                ],
                "responses": standard(json_response("the items", list_of(outbox_item.clone())))
            }},
            "/v1/outbox/{id}": {"get": {
                "summary": "One write to a vendor",
                "parameters": [path_number("id")],
                "responses": standard(json_response("the item", outbox_item))
            }},
            "/v1/changes": {"get": {
                "summary": "The workspace's change feed, oldest first: every change a sync, webhook, import or API call applied",
                "parameters": [
                    parameter("after", "query", json!({"type": "integer", "minimum": 0}), "only changes after this position (the `next` of the previous page); 0 from the start"),
                    parameter("types", "query", json!({"type": "string"}), "comma-separated data types; all when absent"),
                    parameter("connection", "query", json!({"type": "string"}), "the connection"),
                    parameter("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 1000}), "how many (100)")
                ],
                "responses": standard(json_response("the changes", change_page))
            }},
            "/v1/webhooks": {"get": {
                "summary": "Webhook deliveries received and how their processing went",
                "parameters": [
                    parameter("connection", "query", json!({"type": "string"}), "the connection"),
                    parameter("after", "query", json!({"type": "integer"}), "the `next` of the previous page"),
                    parameter("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 500}), "how many (100)")
                ],
                "responses": standard(json_response("the deliveries", list_of(json!({"type": "object"}))))
            }}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `eventsync token create`"},
                "webhook": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "the static token configured in Cvent's webhook integration"}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}
                    }}
                },
                "Record": {
                    "type": "object",
                    "required": ["external_id", "connection"],
                    "properties": {"external_id": {"type": "string"}, "connection": {"type": "string"}},
                    "additionalProperties": true
                },
                "Registration": {
                    "type": "object",
                    "properties": {
                        "connection": {"type": "string"},
                        "person_external_id": {"type": "string"},
                        "session_external_id": {"type": "string"},
                        "state": {"type": "string", "enum": ["registered", "waitlisted", "pending", "sending", "sent", "failed", "local"]},
                        "reason": {"type": ["string", "null"]},
                        "outbox_id": {"type": ["integer", "null"]}
                    }
                },
                "OutboxItem": {
                    "type": "object",
                    "required": ["id", "connection", "operation", "status", "attempts"],
                    "properties": {
                        "id": {"type": "integer"},
                        "connection": {"type": "string"},
                        "operation": {"type": "string", "enum": ["enroll", "unenroll", "check_in"]},
                        "session_external_id": {"type": ["string", "null"]},
                        "person_external_id": {"type": "string"},
                        "payload": {"type": "object"},
                        "status": {"type": "string", "enum": ["pending", "sending", "sent", "failed", "local"]},
                        "attempts": {"type": "integer"},
                        "next_attempt_at": {"type": "string"},
                        "last_error": {"type": ["string", "null"]},
                        "created_at": {"type": "string"},
                        "updated_at": {"type": "string"},
                        "sent_at": {"type": ["string", "null"]}
                    }
                },
                "Token": {
                    "type": "object",
                    "required": ["id", "name", "scope", "created_at", "revoked_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "scope": {"type": "string", "enum": ["read", "write", "admin"], "description": "read: every GET of workspace data; write: also registrations, check-ins and sessions; admin: everything"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "revoked_at": {"type": ["string", "null"], "format": "date-time"}
                    }
                },
                "Run": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "connection": {"type": "string"},
                        "kind": {"type": "string"},
                        "data_types": {"type": "array", "items": {"type": "string"}},
                        "status": {"type": "string"},
                        "started_at": {"type": "string"},
                        "finished_at": {"type": ["string", "null"]},
                        "counts": {"type": "object"},
                        "api_calls": {"type": "integer"},
                        "errors": {"type": "array", "items": {"type": "string"}},
                        "resets_at": {"type": ["string", "null"]}
                    }
                },
                "WebhookEnvelope": {
                    "type": "object",
                    "required": ["eventType", "messageStub", "message"],
                    "properties": {
                        "eventType": {"type": "string"},
                        "messageTime": {"type": "string"},
                        "messageStub": {"type": "string"},
                        "message": {"type": "array", "items": {"type": "object"}}
                    }
                }
            }
        }
    });
    for list in crate::routes::records::LISTS {
        let mut path = workspace_list(list);
        if list.data_type == pipeline::DataType::Sessions {
            path = local_sessions(path);
        }
        document["paths"][list.path] = path;
    }
    for more in [registration_paths(), token_paths(), retry_paths()] {
        if let (Some(paths), Value::Object(more)) = (document["paths"].as_object_mut(), more) {
            paths.extend(more);
        }
    }
    crate::connections::openapi(&mut document);
    crate::workbooks::openapi(&mut document);
    bound_strings(&mut document);
    state_scopes(&mut document);
    document
}

/// Names on every API operation the token scope it needs (`x-required-scope`), as
/// `security::scope_needed` decides it.
fn state_scopes(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths
        .iter_mut()
        .filter(|(path, _)| path.starts_with("/v1/"))
    {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in operations.iter_mut() {
            let Ok(method) = method.to_uppercase().parse::<axum::http::Method>() else {
                continue;
            };
            if operation.is_object() && method != axum::http::Method::OPTIONS {
                operation["x-required-scope"] =
                    json!(crate::security::scope_needed(&method, path).as_str());
            }
        }
    }
}

/// Stopping a run and sending a refused write again.
fn retry_paths() -> Value {
    json!({
        "/v1/runs/{id}/cancel": {"post": {
            "summary": "Asks a running run to stop: it stops at its next page boundary, keeps what it stored, and ends `cancelled`; the next sync goes on from there",
            "parameters": [path_number("id")],
            "responses": with(with(without_ok(standard(json!({}))), "202", json_response(
                "asked; the run is `running` until it reaches a page boundary",
                json!({"allOf": [{"$ref": "#/components/schemas/Run"}, {"type": "object", "required": ["cancel_requested"], "properties": {"cancel_requested": {"type": "boolean"}}}]}),
            )), "409", error_response("the run has ended already"))
        }},
        "/v1/outbox/{id}/retry": {"post": {
            "summary": "Sends a refused (failed) write again: it becomes pending, due now, with its attempts counted afresh",
            "parameters": [path_number("id")],
            "responses": with(with(without_ok(standard(json!({}))), "202", json_response(
                "back in line",
                json!({"$ref": "#/components/schemas/OutboxItem"}),
            )), "409", error_response("the item is not failed"))
        }}
    })
}

/// The API tokens' routes.
fn token_paths() -> Value {
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    json!({
    "/v1/tokens": {
        "get": {
            "summary": "The API tokens, revoked ones included (never the tokens themselves)",
            "responses": standard(json_response("the tokens", list_of(json!({"$ref": "#/components/schemas/Token"}))))
        },
        "post": {
            "summary": "Creates a token; the answer is the only time it is shown",
            "requestBody": body(json!({
                "type": "object",
                "required": ["name", "scope"],
                "additionalProperties": false,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "pattern": "\\S", "description": "unique among live tokens"},
                    "scope": {"type": "string", "enum": ["read", "write", "admin"]}
                }
            })),
            "responses": with(with(with(without_ok(standard(json!({}))), "201", json_response(
                "the token, with its secret in `token`",
                json!({"allOf": [{"$ref": "#/components/schemas/Token"}, {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}]}),
            )), "409", error_response("a live token has that name")), "413", error_response("the body is too large"))
        }
    },
    "/v1/tokens/{id}": {"delete": {
        "summary": "Revokes a token: it is refused from then on",
        "parameters": [path_number("id")],
        "responses": with(without_ok(standard(json!({}))), "204", json!({"description": "revoked"}))
    }}
    })
}

/// Sets every string a client sends — path and query parameters, request body members — to the
/// length `input` holds it to, so the document and the check never disagree.
fn bound_strings(document: &mut Value) {
    fn bound(name: &str, schema: &mut Value) {
        let is_string = |schema: &Value| match &schema["type"] {
            Value::String(kind) => kind == "string",
            Value::Array(kinds) => kinds.iter().any(|kind| kind == "string"),
            _ => false,
        };
        if is_string(schema) && schema.get("enum").is_none() {
            schema["maxLength"] = json!(input::max_chars(name));
        } else if schema["type"] == "array" && is_string(&schema["items"]) {
            schema["items"]["maxLength"] = json!(input::max_chars(name));
        }
    }
    fn bound_members(schema: &mut Value) {
        if let Some(members) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, member) in members {
                bound(name, member);
            }
        }
    }
    fn bound_parameters(item: &mut Value) {
        if let Some(parameters) = item.get_mut("parameters").and_then(Value::as_array_mut) {
            for parameter in parameters {
                let name = parameter["name"].as_str().unwrap_or_default().to_string();
                let in_query = parameter["in"] == "query";
                bound(&name, &mut parameter["schema"]);
                if in_query && parameter["schema"]["maxLength"].is_number() {
                    parameter["schema"]["maxLength"] = json!(input::max_query_chars(&name));
                }
            }
        }
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for path in paths.values_mut() {
            bound_parameters(path);
            if let Some(operations) = path.as_object_mut() {
                for operation in operations.values_mut().filter(|item| item.is_object()) {
                    bound_parameters(operation);
                    if let Some(schema) =
                        operation.pointer_mut("/requestBody/content/application~1json/schema")
                    {
                        bound_members(schema);
                    }
                }
            }
        }
    }
    if let Some(envelope) = document.pointer_mut("/components/schemas/WebhookEnvelope") {
        bound_members(envelope);
    }
}

/// A data type's monitoring totals (`engine::totals::Totals`): the vendor's count from the last
/// whole full listing against the workspace's, the difference explained.
/// A vendor account's auto-sync plan (`scheduler::plan::AccountPlan`).
fn account_plan_schema() -> Value {
    json!({
        "type": "object",
        "description": "the vendor account's daily quota shared out among its events' auto syncs",
        "required": ["account", "daily_quota", "per_second", "budget", "spent_today", "pace",
                     "planned_calls_a_day", "events", "warnings", "steps"],
        "properties": {
            "account": {"type": "string"},
            "daily_quota": {"type": ["integer", "null"]},
            "per_second": {"type": "number"},
            "budget": {"type": "integer", "description": "auto sync's share of a day's calls"},
            "spent_today": {"type": "integer", "description": "calls the account's sync runs spent since the quota reset"},
            "pace": {"type": "integer", "description": "calls a day auto sync may spend at for the rest of the day"},
            "planned_calls_a_day": {"type": "integer"},
            "events": {"type": "array", "items": {
                "type": "object",
                "required": ["connection", "people", "data_types", "timing", "weight", "explicit",
                             "interval_seconds", "syncs_a_day", "calls_a_day"],
                "properties": {
                    "connection": {"type": "string"},
                    "people": {"type": "integer"},
                    "data_types": {"type": "integer"},
                    "timing": {"type": "object", "required": ["state"], "properties": {
                        "state": {"enum": ["unknown", "starts_in", "running", "over"]},
                        "days": {"type": "number"}
                    }},
                    "weight": {"type": "number"},
                    "explicit": {"type": "boolean", "description": "the interval was set by hand"},
                    "interval_seconds": {"type": "integer"},
                    "syncs_a_day": {"type": "integer"},
                    "calls_a_day": {"type": "integer"}
                }
            }},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "steps": {"type": "array", "items": {"type": "string"}}
        }
    })
}

fn totals_schema() -> Value {
    let count_or_null = json!({"type": ["integer", "null"], "minimum": 0});
    json!({
        "type": "object",
        "required": ["vendor", "workspace", "counted_at", "counted_by_run", "left_out",
                     "not_yet_synced", "beyond_vendor_count", "explanation"],
        "properties": {
            "vendor": count_or_null,
            "workspace": {"type": "integer", "minimum": 0},
            "counted_at": {"type": ["string", "null"]},
            "counted_by_run": {"type": ["integer", "null"]},
            "left_out": {"type": "object", "properties": {
                "by_status": count_or_null,
                "by_filters": {"type": "integer", "minimum": 0},
                "rejected": {"type": "integer", "minimum": 0},
                "derived": {"type": "integer", "minimum": 0}
            }},
            "not_yet_synced": count_or_null,
            "beyond_vendor_count": count_or_null,
            "explanation": {"type": "string"}
        }
    })
}

/// The routes a member's browser takes from the association's website: public, the link's
/// signature is their key (`register.rs`). Pages are HTML; the eligibility check is JSON for
/// any origin.
fn registration_paths() -> Value {
    let mut link = vec![path_id("connection")];
    for (name, description) in crate::register::LINK_PARAMETERS {
        let schema = if name == "expires" {
            json!({"type": "integer", "minimum": 0})
        } else {
            json!({"type": "string", "minLength": 1})
        };
        let mut parameter = parameter(name, "query", schema, description);
        parameter["required"] = json!(true);
        link.push(parameter);
    }
    let html = |description: &str| json!({"description": description, "content": {"text/html": {"schema": {"type": "string"}}}});
    let refused = |description: &str| {
        json!({"description": description, "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }})
    };
    json!({
        "/register/{connection}": {"get": {
            "summary": "Follows a registration link the association's website signed: checks the signature, the expiry and the nonce (once), asks iMIS whether the member may register, invites them at Cvent with their details and sends them to their registration page",
            "security": [],
            "parameters": link.clone(),
            "responses": {
                "303": {
                    "description": "to the member's Cvent registration page (the same one when they are invited or registered already)",
                    "headers": {"Location": {"required": true, "schema": {"type": "string"}}}
                },
                "200": html("the member may not register for this event (a page with the id not-eligible)"),
                "400": html("the link is damaged, or expires more than an hour ahead"),
                "403": refused("the signature is missing or wrong (an HTML page), or the caller's address is not allowed (JSON)"),
                "404": html("no registration at this connection"),
                "409": html("the link was used already"),
                "410": html("the link has expired"),
                "422": html("the association's records cannot prefill the registration (two records for one person, or no name or email)"),
                "500": html("the workspace database failed; the server log has the details"),
                "501": html("registration links need a Cvent REST connection"),
                "502": html("iMIS or Cvent did not answer; the server log has the details"),
                "503": {"description": "a browser's prefetch (Sec-Purpose: prefetch) or a HEAD: nothing is checked and the link stays unused"}
            }
        }},
        "/register/{connection}/eligibility": {"get": {
            "summary": "Whether the member of a signed registration link may register, without using the link up; for the website's widget, from any origin",
            "security": [],
            "parameters": link,
            "responses": {
                "200": {
                    "description": "the answer",
                    "headers": {"Access-Control-Allow-Origin": {"required": true, "schema": {"type": "string", "const": "*"}}},
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["eligible"],
                        "properties": {
                            "eligible": {"type": "boolean"},
                            "message": {"type": "string", "description": "why not, for the member"}
                        }
                    }}}
                },
                "400": error_response("the link is damaged, or expires more than an hour ahead"),
                "403": error_response("the signature is missing or wrong, or the caller's address is not allowed"),
                "404": error_response("no registration at this connection"),
                "410": error_response("the link has expired"),
                "501": error_response("registration links need a Cvent REST connection"),
                "502": error_response("iMIS did not answer")
            }
        }},
        "/register/{connection}/widget.js": {"get": {
            "summary": "The script a page of the association's website embeds to show the Register link (docs/registration-links.md)",
            "security": [],
            "parameters": [path_id("connection")],
            "responses": {
                "200": {"description": "the script, cacheable for an hour", "content": {"text/javascript": {"schema": {"type": "string"}}}},
                "403": error_response("the caller's address is not allowed"),
                "404": html("no registration at this connection")
            }
        }}
    })
}
