//! The error answers every operation can give, added to the OpenAPI document where a
//! handler's own description leaves them out — so that clients (and the schemathesis run in
//! `tests/fuzz`) know every status the API may answer, each as a problem document.
//!
//! They come from layers every request crosses: body extractors (400, 413, 415, 422), the
//! caller's credentials (401, 403), look-ups of what the path or query names (404), rate limits (429) and the time limit
//! or an unreachable database (503, with `Retry-After`).

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

const PROBLEM_JSON: &str = "application/problem+json";

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Adds the statuses `operation` can answer that it does not describe yet.
fn complete(operation: &mut Operation, probe: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if probe {
        // Health and metrics: no input, no credentials, never rate limited.
        return;
    }
    add(
        "400",
        "Malformed request: unreadable body, or a header or query parameter missing or invalid",
    );
    add("422", "Invalid fields");
    if operation.request_body.is_some() {
        add("413", "Body too large");
        add("415", "Unsupported body media type");
    }
    if secured {
        add("401", "Missing or invalid credentials");
        add(
            "403",
            "Credentials that do not allow this (role, scope, or a session without its CSRF token)",
        );
    }
    add(
        "404",
        "Not found: a resource named in the path or the query does not exist (or is not yours)",
    );
    add(
        "429",
        "Too many requests from this address or device: retry after `Retry-After` seconds",
    );
    add(
        "503",
        "Temporarily unavailable (database unreachable, or the request took too long): retry \
         after `Retry-After` seconds",
    );
}

/// Completes every operation of the document.
pub fn document_errors(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let probe = matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics");
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            complete(operation, probe);
        }
    }
}
