//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the code: every handler
//! carries its `#[utoipa::path]`, the types it takes and answers with derive their schemas, and
//! `routes.rs` registers each route through utoipa-axum's `OpenApiRouter`, which adds the route
//! and its operation in one call — so the document lists exactly the routes the server has.
//!
//! This file holds the document's root (info, the bearer security, shared schemas) and the
//! modifiers that state, once every route is in, what holds across operations and is decided
//! elsewhere: the answers every API operation may give (the layers in front of the handlers
//! give them), the token scope each needs (`security::scope_needed`) and the length every
//! string a client sends is held to (`input::max_chars`).

use axum::http::Method;
use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ArrayItems, SchemaType};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema, Type,
};
use utoipa::{Modify, OpenApi as _};

use crate::error::ErrorAnswer;
use crate::input;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "eventsync",
        description = "The event workspace as an event app and a check-in desk read it, the app's writes back to the vendor, runs, and vendor webhooks. No string a client sends may hold a NUL character (U+0000), anywhere in a body included, or run past its `maxLength`: either is a 400 whose message names the field."
    ),
    security(("bearer" = [])),
    components(schemas(ErrorAnswer, crate::routes::records::Record)),
    modifiers(&SecuritySchemes)
)]
struct Root;

/// The document before any route is added: info, security and the shared schemas.
pub(crate) fn root() -> OpenApi {
    Root::openapi()
}

/// The document once every route is in: what holds across operations applied.
pub(crate) fn complete(mut document: OpenApi) -> OpenApi {
    StandardAnswers.modify(&mut document);
    RequiredScopes.modify(&mut document);
    StringBounds.modify(&mut document);
    document
}

/// A schema written out as JSON, for an answer built from another crate's types.
pub(crate) fn literal_schema(schema: Value) -> RefOr<Schema> {
    serde_json::from_value(schema)
        .expect("a schema written in this crate is a valid OpenAPI schema object")
}

/// The bearer token of the API and the static token of Cvent's webhooks.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut OpenApi) {
        let components = document.components.get_or_insert_with(Components::new);
        let mut bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        bearer.description = Some("a token from `eventsync token create`".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "webhook",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "the static token configured in Cvent's webhook integration",
            ))),
        );
    }
}

/// Every operation of a path, with its method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::PATCH, &mut item.patch),
        (Method::HEAD, &mut item.head),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/v1/")
}

/// The answers every API operation may give besides its own: the allow-list and the token check
/// (`security.rs`), the input check (`input.rs`), the body limit, the URI limit and the request
/// timeout stand in front of every handler. An operation's own answer for a status wins.
struct StandardAnswers;

impl Modify for StandardAnswers {
    fn modify(&self, document: &mut OpenApi) {
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Error")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in document.paths.paths.iter_mut() {
            if !is_api(path) {
                continue;
            }
            for (_, operation) in operations(item) {
                let mut standard = vec![
                    (
                        "400",
                        error(
                            "the request is malformed (a NUL character or a string past its maxLength included); the message names what to fix",
                        ),
                    ),
                    ("401", error("no valid bearer token")),
                    (
                        "403",
                        error(
                            "the caller's address is not allowed, or the token's scope does not allow this operation (`x-required-scope`)",
                        ),
                    ),
                    ("404", error("no such record or route")),
                    (
                        "414",
                        RefOr::T(
                            ResponseBuilder::new()
                                .description("the URI is longer than the server reads")
                                .build(),
                        ),
                    ),
                    (
                        "503",
                        error("the request took longer than the server's request timeout"),
                    ),
                ];
                if operation.request_body.is_some() {
                    standard.push(("413", error("the body is too large")));
                }
                for (status, answer) in standard {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(answer);
                }
            }
        }
    }
}

/// Names on every API operation the token scope it needs (`x-required-scope`), as
/// `security::scope_needed` decides it for the route.
struct RequiredScopes;

impl Modify for RequiredScopes {
    fn modify(&self, document: &mut OpenApi) {
        for (path, item) in document.paths.paths.iter_mut() {
            if !is_api(path) {
                continue;
            }
            for (method, operation) in operations(item) {
                let scope = crate::security::scope_needed(&method, path);
                operation
                    .extensions
                    .get_or_insert_with(Default::default)
                    .insert("x-required-scope".into(), json!(scope.as_str()));
            }
        }
    }
}

/// Sets every string a client sends — path and query parameters, request body members — to the
/// length `input` holds it to, so the document and the check never disagree.
struct StringBounds;

impl Modify for StringBounds {
    fn modify(&self, document: &mut OpenApi) {
        let mut bodies = Vec::new();
        for item in document.paths.paths.values_mut() {
            for parameter in item.parameters.iter_mut().flatten() {
                bound_parameter(parameter);
            }
            for (_, operation) in operations(item) {
                for parameter in operation.parameters.iter_mut().flatten() {
                    bound_parameter(parameter);
                }
                let Some(body) = &mut operation.request_body else {
                    continue;
                };
                for content in body.content.values_mut() {
                    match &mut content.schema {
                        Some(RefOr::T(schema)) => bound_members(schema),
                        Some(RefOr::Ref(reference)) => bodies.push(reference.ref_location.clone()),
                        None => {}
                    }
                }
            }
        }
        let Some(components) = &mut document.components else {
            return;
        };
        for location in bodies {
            let name = location.trim_start_matches("#/components/schemas/");
            if let Some(RefOr::T(schema)) = components.schemas.get_mut(name) {
                bound_members(schema);
            }
        }
    }
}

fn bound_parameter(parameter: &mut utoipa::openapi::path::Parameter) {
    let max = match parameter.parameter_in {
        ParameterIn::Query => input::max_query_chars(&parameter.name),
        _ => input::max_chars(&parameter.name),
    };
    if let Some(RefOr::T(schema)) = &mut parameter.schema {
        bound(schema, max);
    }
}

fn bound_members(schema: &mut Schema) {
    if let Schema::Object(object) = schema {
        for (name, member) in object.properties.iter_mut() {
            if let RefOr::T(member) = member {
                bound(member, input::max_chars(name));
            }
        }
    }
}

/// Bounds a string schema, or the strings of an array schema, to `max` characters; an enum
/// needs no bound.
fn bound(schema: &mut Schema, max: usize) {
    let is_string = |kind: &SchemaType| match kind {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    match schema {
        Schema::Object(object)
            if is_string(&object.schema_type) && object.enum_values.is_none() =>
        {
            object.max_length = Some(max);
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(items) = items.as_mut()
            {
                bound(items, max);
            }
        }
        _ => {}
    }
}
