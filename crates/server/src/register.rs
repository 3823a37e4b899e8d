//! Registration from the association's website (single sign-on): a member signed in there
//! follows a link the website signed, and lands on their Cvent registration page with their
//! details filled in, where they only click Submit. `docs/registration-links.md` is the
//! website's side of it.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /register/{connection}?member&expires&nonce&sig` | 303 to the member's Cvent registration page, or a page saying why not |
//! | `GET /register/{connection}/eligibility?member&expires&nonce&sig` | `{"eligible": true}` or `{"eligible": false, "message"}`, for any origin |
//! | `GET /register/{connection}/widget.js` | the script a website page embeds to show the Register link |
//!
//! A link is `sig = hex(HMAC-SHA256(link_secret, "<connection>\n<member>\n<expires>\n<nonce>"))`
//! with the `link_secret` of the iMIS site the connection's `[connections.imis]` names. It is
//! checked in this order: the signature (403), the expiry (410), a lifetime of at most an hour
//! (400), then the nonce is spent (409 the second time), so a forged link never reaches the
//! store and a link works once. The eligibility check verifies the same link without spending
//! the nonce, and so does nothing that is not a click: a browser's prefetch and a `HEAD` are
//! answered 503 before anything is checked. The routes are public (the signature is their key); the IP allow-list still
//! applies.
//!
//! Pages are small, server-rendered and escaped, with no script; what went wrong at a vendor
//! goes to the log, never onto a page.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use connectors::cvent_rest::InviteeContact;
use destinations::Destination;
use destinations::imis::eligibility::{self, Decision, Member, Prefill};
use engine::config::{ImisFeed, ImisSettings};
use engine::{Connection, VendorSettings};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorAnswer};
use crate::outbox::Writer;

/// The longest a link may live: the website makes one as it shows the page.
pub const MAX_LIFETIME_SECONDS: i64 = 3600;
/// How far ahead of this server's clock the website's may run.
const CLOCK_SLACK_SECONDS: i64 = 60;
/// The shortest nonce: 16 characters of a random token.
pub const NONCE_MIN: usize = 16;
const NONCE_MAX: usize = 128;
/// An iMIS id or an email.
const MEMBER_MAX: usize = 256;

const WIDGET: &str = include_str!("register/widget.js");

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(follow_link))
        .routes(routes!(check_eligibility))
        .routes(routes!(widget))
}

/// The query of a signed link, as [`LINK_PARAMETERS`] names it: every part required.
struct LinkParams;

impl IntoParams for LinkParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        LINK_PARAMETERS
            .iter()
            .map(|(name, description)| {
                let schema = if *name == "expires" {
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0))
                } else {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                };
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::True)
                    .description(Some(*description))
                    .schema(Some(schema))
                    .build()
            })
            .collect()
    }
}

/// Whether the member of a link may register.
#[derive(serde::Serialize, ToSchema)]
struct Eligibility {
    eligible: bool,
    /// Why not, for the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

// ---- the link ----------------------------------------------------------------------------------

/// A source connection that registration links lead to, and the iMIS site whose secret signs
/// them.
struct Target<'a> {
    source: &'a Connection,
    feed: &'a ImisFeed,
    site: &'a Connection,
    settings: &'a ImisSettings,
    secret: &'a [u8],
}

/// The connection's target; `None` when it has no `[connections.imis]` or its site no
/// `link_secret`, which a visitor is told no more about than about a connection that does not
/// exist.
fn target<'a>(config: &'a engine::Config, connection: &str) -> Option<Target<'a>> {
    let find = |name: &str| config.connections.iter().find(|c| c.name == name);
    let source = find(connection)?;
    let feed = source.imis.as_ref()?;
    let site = find(&feed.destination)?;
    let VendorSettings::Imis(settings) = &site.vendor else {
        return None;
    };
    let secret = settings.link_secret.as_ref()?.expose().as_bytes();
    Some(Target {
        source,
        feed,
        site,
        settings,
        secret,
    })
}

/// A link whose signature, expiry and lifetime were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedLink {
    member: Member,
    expires: i64,
    nonce: String,
}

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LinkRefusal {
    /// No signature, or not the one the secret gives.
    Forged,
    /// A part missing, given twice or malformed: which one.
    Damaged(&'static str),
    Expired,
    /// Expires more than an hour ahead.
    TooLong,
    /// Its nonce was spent already.
    Replayed,
}

impl LinkRefusal {
    fn status(&self) -> StatusCode {
        match self {
            LinkRefusal::Forged => StatusCode::FORBIDDEN,
            LinkRefusal::Damaged(_) | LinkRefusal::TooLong => StatusCode::BAD_REQUEST,
            LinkRefusal::Expired => StatusCode::GONE,
            LinkRefusal::Replayed => StatusCode::CONFLICT,
        }
    }

    /// Stable, for programs and tests: the JSON error code and the page's element id.
    fn code(&self) -> &'static str {
        match self {
            LinkRefusal::Forged => "link_forged",
            LinkRefusal::Damaged(_) => "link_damaged",
            LinkRefusal::Expired => "link_expired",
            LinkRefusal::TooLong => "link_too_long",
            LinkRefusal::Replayed => "link_used",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            LinkRefusal::Forged => "This link cannot be used",
            LinkRefusal::Damaged(_) => "This link is damaged",
            LinkRefusal::Expired => "This link has expired",
            LinkRefusal::TooLong => "This link cannot be used",
            LinkRefusal::Replayed => "This link was used already",
        }
    }

    fn message(&self) -> String {
        match self {
            LinkRefusal::Forged => "This link was not made by the association's website. Go back to the association's website and click Register there.".to_string(),
            LinkRefusal::Damaged(part) => format!("This link is incomplete or damaged (its {part}). Go back and click Register again."),
            LinkRefusal::Expired => "This link has expired; go back and click Register again.".to_string(),
            LinkRefusal::TooLong => format!("This link is valid for too long: the association's website must make links that expire within {} minutes. Please tell the association.", MAX_LIFETIME_SECONDS / 60),
            LinkRefusal::Replayed => "This link has been used already; go back and click Register again for a new one.".to_string(),
        }
    }

    fn page(&self) -> Response {
        page(self.status(), self.code(), self.title(), &[self.message()])
    }

    fn json(&self) -> Response {
        ApiError::new(self.status(), self.code(), self.message()).into_response()
    }
}

/// The text a link's signature is computed over.
fn signed_text(connection: &str, member: &str, expires: &str, nonce: &str) -> String {
    format!("{connection}\n{member}\n{expires}\n{nonce}")
}

/// The lowercase hex HMAC-SHA256 of `text` under `secret`, as the website computes it.
fn signature(secret: &[u8], text: &str) -> String {
    hex::encode(mac(secret, text).finalize().into_bytes())
}

/// A registration link for `member`, made as docs/registration-links.md tells a website to
/// make one: for eventsync's own demo and for scripts that stand in for the website.
pub fn registration_link(
    base_url: &str,
    connection: &str,
    member: &str,
    secret: &str,
    expires: i64,
    nonce: &str,
) -> String {
    let expires = expires.to_string();
    let sig = signature(
        secret.as_bytes(),
        &signed_text(connection, member, &expires, nonce),
    );
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("member", member)
        .append_pair("expires", &expires)
        .append_pair("nonce", nonce)
        .append_pair("sig", &sig)
        .finish();
    let path: String = form_urlencoded::byte_serialize(connection.as_bytes()).collect();
    format!("{}/register/{path}?{query}", base_url.trim_end_matches('/'))
}

fn mac(secret: &[u8], text: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` refuses none.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC keys have no length limit"));
    mac.update(text.as_bytes());
    mac
}

/// Checks a link's parameters for `connection` at unix time `now`: the signature first, then
/// the expiry and the lifetime. The nonce is the caller's to spend.
fn verify(
    connection: &str,
    secret: &[u8],
    parameters: &[(String, String)],
    now: i64,
) -> Result<SignedLink, LinkRefusal> {
    let one = |name: &str| -> Result<Option<&str>, ()> {
        let mut values = parameters
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            (Some(_), Some(_)) => Err(()),
            (None, Some(_)) => Err(()),
        }
    };
    let signature = match one("sig") {
        Ok(Some(signature)) => signature,
        _ => return Err(LinkRefusal::Forged),
    };
    let presented = hex::decode(signature)
        .ok()
        .filter(|bytes| bytes.len() == 32)
        .ok_or(LinkRefusal::Forged)?;
    let part = |name: &'static str| match one(name) {
        Ok(Some(value)) => Ok(value),
        _ => Err(LinkRefusal::Damaged(name)),
    };
    let (member, expires, nonce) = (part("member")?, part("expires")?, part("nonce")?);
    if member.trim().is_empty()
        || member.chars().count() > MEMBER_MAX
        || member.chars().any(char::is_control)
    {
        return Err(LinkRefusal::Damaged("member"));
    }
    let expires_at = Some(expires)
        .filter(|text| (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or(LinkRefusal::Damaged("expires"))?;
    let nonce_ok = (NONCE_MIN..=NONCE_MAX).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if !nonce_ok {
        return Err(LinkRefusal::Damaged("nonce"));
    }
    let expected = mac(secret, &signed_text(connection, member, expires, nonce))
        .finalize()
        .into_bytes();
    if !bool::from(expected[..].ct_eq(&presented[..])) {
        return Err(LinkRefusal::Forged);
    }
    if expires_at < now {
        return Err(LinkRefusal::Expired);
    }
    if expires_at - now > MAX_LIFETIME_SECONDS + CLOCK_SLACK_SECONDS {
        return Err(LinkRefusal::TooLong);
    }
    let member = Member::parse(member).ok_or(LinkRefusal::Damaged("member"))?;
    Ok(SignedLink {
        member,
        expires: expires_at,
        nonce: nonce.to_string(),
    })
}

fn parameters(uri: &Uri) -> Option<Vec<(String, String)>> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .ok()
        .map(|Query(pairs)| pairs)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---- deciding ----------------------------------------------------------------------------------

/// What the member's link comes to, short of Cvent.
enum Outcome {
    Eligible(Prefill),
    NotEligible(String),
    Refused(String),
}

/// Asks the site whether the member may register. Vendor failures are logged here.
async fn decide(
    state: &AppState,
    target: &Target<'_>,
    member: &Member,
) -> Result<Outcome, connectors::ConnectorError> {
    let client = site_client(state, target.site)?;
    let decision =
        eligibility::decide(&client, target.settings.query_service, target.feed, member).await?;
    Ok(match decision {
        Decision::Eligible(prefill) => Outcome::Eligible(prefill),
        Decision::NotEligible { message } => Outcome::NotEligible(message),
        Decision::Refused { message, detail } => {
            tracing::warn!(
                connection = %target.source.name,
                site = %target.site.name,
                reason = %detail,
                "a registration link was refused"
            );
            Outcome::Refused(message)
        }
    })
}

/// The site's client: the feed's own (its token shared), else one made for this call.
fn site_client(
    state: &AppState,
    site: &Connection,
) -> Result<connectors::imis::Imis, connectors::ConnectorError> {
    if let Ok(destinations) = state.destinations().as_ref() {
        for destination in destinations {
            match destination {
                Destination::Imis(imis) if imis.name() == site.name => {
                    return Ok(imis.client().clone());
                }
                Destination::Imis(_) => {}
            }
        }
    }
    engine::imis_client(site, state.settings.retry).unwrap_or_else(|| {
        Err(connectors::ConnectorError::Config(format!(
            "connection '{}' is not an iMIS site",
            site.name
        )))
    })
}

fn is_cvent_rest(connection: &Connection) -> bool {
    matches!(connection.vendor, VendorSettings::CventRest(_))
}

/// The event's title, when a sync has learnt it.
async fn event_title(state: &AppState, connection: &str) -> Option<String> {
    let facts = state.store.connection_facts(connection).await.ok()??;
    facts["event_title"]
        .as_str()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .map(str::to_string)
}

// ---- GET /register/{connection} ----------------------------------------------------------------

#[utoipa::path(
    get,
    path = "/register/{connection}",
    summary = "Follows a registration link the association's website signed: checks the signature, the expiry and the nonce (once), asks iMIS whether the member may register, invites them at Cvent with their details and sends them to their registration page",
    security(()),
    params(("connection" = String, Path, description = "an id"), LinkParams),
    responses(
        (status = 303, description = "to the member's Cvent registration page (the same one when they are invited or registered already)",
            headers(("Location" = String))),
        (status = 200, description = "the member may not register for this event (a page with the id not-eligible)", body = String, content_type = "text/html"),
        (status = 400, description = "the link is damaged, or expires more than an hour ahead", body = String, content_type = "text/html"),
        (status = 403, description = "the signature is missing or wrong (an HTML page), or the caller's address is not allowed (JSON)", content(
            (String = "text/html"),
            (ErrorAnswer = "application/json"),
        )),
        (status = 404, description = "no registration at this connection", body = String, content_type = "text/html"),
        (status = 409, description = "the link was used already", body = String, content_type = "text/html"),
        (status = 410, description = "the link has expired", body = String, content_type = "text/html"),
        (status = 422, description = "the association's records cannot prefill the registration (two records for one person, or no name or email)", body = String, content_type = "text/html"),
        (status = 500, description = "the workspace database failed; the server log has the details", body = String, content_type = "text/html"),
        (status = 501, description = "registration links need a Cvent REST connection", body = String, content_type = "text/html"),
        (status = 502, description = "iMIS or Cvent did not answer; the server log has the details", body = String, content_type = "text/html"),
        (status = 503, description = "a browser's prefetch (Sec-Purpose: prefetch) or a HEAD: nothing is checked and the link stays unused"),
    )
)]
async fn follow_link(
    State(state): State<AppState>,
    connection: Result<Path<String>, PathRejection>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if method == Method::HEAD || is_prefetch(&headers) {
        return not_now();
    }
    let Ok(Path(connection)) = connection else {
        return not_found_page();
    };
    let config = state.config();
    let Some(target) = target(&config, &connection) else {
        return not_found_page();
    };
    let Some(parameters) = parameters(&uri) else {
        return LinkRefusal::Damaged("query").page();
    };
    let link = match verify(&connection, target.secret, &parameters, now()) {
        Ok(link) => link,
        Err(refusal) => {
            tracing::info!(%connection, refusal = refusal.code(), "a registration link was refused");
            return refusal.page();
        }
    };
    if !is_cvent_rest(target.source) {
        return needs_cvent_rest_page();
    }
    let expires_at = chrono::DateTime::from_timestamp(link.expires, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    match state
        .store
        .use_link(&target.site.name, &link.nonce, &expires_at)
        .await
    {
        Ok(true) => {}
        Ok(false) => return LinkRefusal::Replayed.page(),
        Err(error) => {
            tracing::error!(%error, %connection, "recording a followed registration link failed");
            return unavailable_page(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
    let prefill = match decide(&state, &target, &link.member).await {
        Ok(Outcome::Eligible(prefill)) => prefill,
        Ok(Outcome::NotEligible(message)) => {
            let event = event_title(&state, &connection).await;
            return not_eligible_page(event.as_deref(), &message);
        }
        Ok(Outcome::Refused(message)) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cannot-register",
                "Your registration cannot be prepared",
                &[message],
            );
        }
        Err(error) => {
            tracing::warn!(%error, %connection, site = %target.site.name, "iMIS did not decide a registration link");
            return unavailable_page(StatusCode::BAD_GATEWAY);
        }
    };
    invite(&state, &connection, &prefill).await
}

/// Whether a browser asks ahead of a click (`Sec-Purpose: prefetch`, or Chrome's older
/// `Purpose: prefetch`).
fn is_prefetch(headers: &HeaderMap) -> bool {
    ["sec-purpose", "purpose"].iter().any(|name| {
        headers
            .get_all(*name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.to_ascii_lowercase().contains("prefetch"))
    })
}

/// The answer to a request that is no member's click (a prefetch, a link checker's `HEAD`):
/// it must not use the link up, and browsers drop a prefetch that is not a success.
fn not_now() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::RETRY_AFTER, HeaderValue::from_static("0")),
        ],
    )
        .into_response()
}

/// Invites the member at Cvent (or finds them there) and sends them to their registration page.
async fn invite(state: &AppState, connection: &str, prefill: &Prefill) -> Response {
    let writer = match state.writers.get(state, connection).await {
        Ok(writer) => writer,
        Err(error) => {
            tracing::warn!(%error, %connection, "no Cvent client for a registration link");
            return unavailable_page(StatusCode::BAD_GATEWAY);
        }
    };
    let Writer::CventRest(cvent) = writer.as_ref() else {
        return needs_cvent_rest_page();
    };
    let contact = InviteeContact {
        first_name: prefill.first_name.clone(),
        last_name: prefill.last_name.clone(),
        email: prefill.email.clone(),
        company: prefill.company.clone(),
        title: prefill.title.clone(),
    };
    let invitee = match cvent.invite(&contact).await {
        Ok(invitee) => invitee,
        Err(error) => {
            tracing::warn!(%error, %connection, "Cvent did not invite the member of a registration link");
            return unavailable_page(StatusCode::BAD_GATEWAY);
        }
    };
    let location = Some(invitee.accept_link.trim())
        .filter(|link| link.starts_with("https://") || link.starts_with("http://"))
        .and_then(|link| HeaderValue::from_str(link).ok());
    let Some(location) = location else {
        tracing::warn!(%connection, attendee = %invitee.attendee_id, "Cvent gave no usable registration link");
        return unavailable_page(StatusCode::BAD_GATEWAY);
    };
    tracing::info!(
        %connection,
        attendee = %invitee.attendee_id,
        created = invitee.created,
        status = %invitee.status,
        "a member followed a registration link to Cvent"
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response()
}

// ---- GET /register/{connection}/eligibility ----------------------------------------------------

#[utoipa::path(
    get,
    path = "/register/{connection}/eligibility",
    summary = "Whether the member of a signed registration link may register, without using the link up; for the website's widget, from any origin",
    security(()),
    params(("connection" = String, Path, description = "an id"), LinkParams),
    responses(
        (status = 200, description = "the answer", body = Eligibility,
            headers(("Access-Control-Allow-Origin" = String, description = "`*`"))),
        (status = 400, description = "the link is damaged, or expires more than an hour ahead", body = ErrorAnswer),
        (status = 403, description = "the signature is missing or wrong, or the caller's address is not allowed", body = ErrorAnswer),
        (status = 404, description = "no registration at this connection", body = ErrorAnswer),
        (status = 410, description = "the link has expired", body = ErrorAnswer),
        (status = 501, description = "registration links need a Cvent REST connection", body = ErrorAnswer),
        (status = 502, description = "iMIS did not answer", body = ErrorAnswer),
    )
)]
async fn check_eligibility(
    State(state): State<AppState>,
    connection: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Response {
    let mut response = eligibility_answer(&state, connection, &uri).await;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn eligibility_answer(
    state: &AppState,
    connection: Result<Path<String>, PathRejection>,
    uri: &Uri,
) -> Response {
    let not_found = || ApiError::not_found("no registration here").into_response();
    let Ok(Path(connection)) = connection else {
        return not_found();
    };
    let config = state.config();
    let Some(target) = target(&config, &connection) else {
        return not_found();
    };
    let Some(parameters) = parameters(uri) else {
        return LinkRefusal::Damaged("query").json();
    };
    let link = match verify(&connection, target.secret, &parameters, now()) {
        Ok(link) => link,
        Err(refusal) => return refusal.json(),
    };
    if !is_cvent_rest(target.source) {
        return ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "needs_cvent_rest",
            NEEDS_CVENT_REST,
        )
        .into_response();
    }
    let answer = match decide(state, &target, &link.member).await {
        Ok(Outcome::Eligible(_)) => Eligibility {
            eligible: true,
            message: None,
        },
        Ok(Outcome::NotEligible(message) | Outcome::Refused(message)) => Eligibility {
            eligible: false,
            message: Some(message),
        },
        Err(error) => {
            tracing::warn!(%error, %connection, site = %target.site.name, "iMIS did not decide an eligibility check");
            return ApiError::new(StatusCode::BAD_GATEWAY, "unavailable", UNAVAILABLE)
                .into_response();
        }
    };
    axum::Json(answer).into_response()
}

// ---- GET /register/{connection}/widget.js ------------------------------------------------------

#[utoipa::path(
    get,
    path = "/register/{connection}/widget.js",
    summary = "The script a page of the association's website embeds to show the Register link (docs/registration-links.md)",
    security(()),
    params(("connection" = String, Path, description = "an id")),
    responses(
        (status = 200, description = "the script, cacheable for an hour", body = String, content_type = "text/javascript"),
        (status = 403, description = "the caller's address is not allowed", body = ErrorAnswer),
        (status = 404, description = "no registration at this connection", body = String, content_type = "text/html"),
    )
)]
async fn widget(
    State(state): State<AppState>,
    connection: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(connection)) = connection else {
        return not_found_page();
    };
    if target(&state.config(), &connection).is_none() {
        return not_found_page();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        WIDGET,
    )
        .into_response()
}

// ---- pages -------------------------------------------------------------------------------------

const NEEDS_CVENT_REST: &str = "Registration links need Cvent REST: this event's registration system cannot take a registration prepared here. Please register on the event's own website.";
const UNAVAILABLE: &str = "The registration system did not answer. Please try again in a few minutes: go back to the association's website and click Register again.";

/// Text safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A small page: a heading and paragraphs, in an element with id `id`.
fn page(status: StatusCode, id: &str, title: &str, paragraphs: &[String]) -> Response {
    let mut body = String::new();
    for paragraph in paragraphs {
        body.push_str("<p>");
        body.push_str(&escape(paragraph));
        body.push_str("</p>\n");
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:1.5rem;color:#1a1a1a}}\
         main{{max-width:34rem;margin:0 auto}}h1{{font-size:1.4rem}}</style>\n\
         </head>\n<body>\n<main id=\"{id}\">\n<h1>{title}</h1>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
        id = escape(id),
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        html,
    )
        .into_response()
}

fn not_found_page() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "not-found",
        "No registration here",
        &["There is no registration at this address. Go back to the association's website and click Register there.".to_string()],
    )
}

fn needs_cvent_rest_page() -> Response {
    page(
        StatusCode::NOT_IMPLEMENTED,
        "needs-cvent-rest",
        "Registration is not available here",
        &[NEEDS_CVENT_REST.to_string()],
    )
}

fn unavailable_page(status: StatusCode) -> Response {
    page(
        status,
        "unavailable",
        "Please try again later",
        &[UNAVAILABLE.to_string()],
    )
}

fn not_eligible_page(event: Option<&str>, message: &str) -> Response {
    let title = match event {
        Some(event) => format!("You cannot register for {event}"),
        None => "You cannot register for this event".to_string(),
    };
    page(
        StatusCode::OK,
        "not-eligible",
        &title,
        &[
            message.to_string(),
            "If you think this is a mistake, please contact the association.".to_string(),
        ],
    )
}

/// Query parameters by name, for the OpenAPI document.
pub(crate) const LINK_PARAMETERS: [(&str, &str); 4] = [
    (
        "member",
        "the member signed in at the website: their iMIS id or email",
    ),
    (
        "expires",
        "when the link expires, in unix seconds: at most an hour ahead",
    ),
    (
        "nonce",
        "a random text of 16 to 128 letters, digits, '-', '_', '.' or '~', used once",
    ),
    (
        "sig",
        "the lowercase hex HMAC-SHA256 of \"<connection>\\n<member>\\n<expires>\\n<nonce>\" with the iMIS site's link_secret",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a secret of more than sixteen characters";
    const NOW: i64 = 1_800_000_000;

    fn link(member: &str, expires: i64, nonce: &str) -> Vec<(String, String)> {
        let expires = expires.to_string();
        let sig = signature(SECRET, &signed_text("cvent", member, &expires, nonce));
        vec![
            ("member".into(), member.into()),
            ("expires".into(), expires),
            ("nonce".into(), nonce.into()),
            ("sig".into(), sig),
        ]
    }

    fn with(
        mut parameters: Vec<(String, String)>,
        name: &str,
        value: &str,
    ) -> Vec<(String, String)> {
        for (key, existing) in &mut parameters {
            if key == name {
                *existing = value.to_string();
            }
        }
        parameters
    }

    #[test]
    fn links_eventsync_makes_are_links_it_takes() {
        let url = registration_link(
            "http://127.0.0.1:8080/",
            "cvent",
            "ada@example.org",
            "change-me-to-32-random-characters",
            1_800_000_000,
            "q7Xk2mN9pL4vR8sT",
        );
        assert!(
            url.starts_with("http://127.0.0.1:8080/register/cvent?member=ada%40example.org&"),
            "{url}"
        );
        let uri: Uri = url.parse().unwrap();
        let parameters = parameters(&uri).unwrap();
        let link = verify(
            "cvent",
            b"change-me-to-32-random-characters",
            &parameters,
            1_800_000_000 - 600,
        );
        assert!(link.is_ok(), "{url}");
        assert!(
            url.ends_with("sig=e2791511fac86eb93e7750df5120a60377e3edacc7283b46e6888a0c51c29b3a")
        );
    }

    #[test]
    fn a_signed_link_names_its_member() {
        let checked = verify(
            "cvent",
            SECRET,
            &link("ada@example.org", NOW + 600, "n0nce-of-16-chars"),
            NOW,
        );
        assert_eq!(
            checked,
            Ok(SignedLink {
                member: Member::Email("ada@example.org".into()),
                expires: NOW + 600,
                nonce: "n0nce-of-16-chars".into(),
            })
        );
    }

    #[test]
    fn the_signature_covers_every_part() {
        let good = link("10001", NOW + 600, "0123456789abcdef");
        for (name, value) in [
            ("member", "10002"),
            ("expires", "1800000601"),
            ("nonce", "0123456789abcdeg"),
        ] {
            assert_eq!(
                verify("cvent", SECRET, &with(good.clone(), name, value), NOW),
                Err(LinkRefusal::Forged),
                "{name}"
            );
        }
        assert_eq!(
            verify("other", SECRET, &good, NOW),
            Err(LinkRefusal::Forged)
        );
        assert_eq!(
            verify("cvent", b"another secret of some length", &good, NOW),
            Err(LinkRefusal::Forged)
        );
        let unsigned: Vec<_> = good.iter().filter(|(k, _)| k != "sig").cloned().collect();
        assert_eq!(
            verify("cvent", SECRET, &unsigned, NOW),
            Err(LinkRefusal::Forged)
        );
        assert_eq!(
            verify("cvent", SECRET, &with(good.clone(), "sig", "zz"), NOW),
            Err(LinkRefusal::Forged)
        );
        let upper = good
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == "sig" {
                        v.to_uppercase()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect::<Vec<_>>();
        assert!(
            verify("cvent", SECRET, &upper, NOW).is_ok(),
            "hex in any case"
        );
    }

    #[test]
    fn the_signature_is_checked_before_the_expiry() {
        let expired = link("10001", NOW - 1, "0123456789abcdef");
        assert_eq!(
            verify("cvent", SECRET, &expired, NOW),
            Err(LinkRefusal::Expired)
        );
        assert_eq!(
            verify("cvent", SECRET, &with(expired, "member", "10002"), NOW),
            Err(LinkRefusal::Forged)
        );
        assert!(verify("cvent", SECRET, &link("1", NOW, "0123456789abcdef"), NOW).is_ok());
    }

    #[test]
    fn a_link_lives_an_hour_at_most() {
        let hour = link(
            "1",
            NOW + MAX_LIFETIME_SECONDS + CLOCK_SLACK_SECONDS,
            "0123456789abcdef",
        );
        assert!(verify("cvent", SECRET, &hour, NOW).is_ok());
        let longer = link(
            "1",
            NOW + MAX_LIFETIME_SECONDS + CLOCK_SLACK_SECONDS + 1,
            "0123456789abcdef",
        );
        assert_eq!(
            verify("cvent", SECRET, &longer, NOW),
            Err(LinkRefusal::TooLong)
        );
    }

    #[test]
    fn damaged_parts_are_named() {
        let good = link("1", NOW + 60, "0123456789abcdef");
        let cases = [
            (with(good.clone(), "nonce", "short"), "nonce"),
            (with(good.clone(), "nonce", "0123456789abcdef 0"), "nonce"),
            (with(good.clone(), "expires", "soon"), "expires"),
            (with(good.clone(), "expires", "-5"), "expires"),
            (with(good.clone(), "member", " "), "member"),
            (with(good.clone(), "member", "a\nb"), "member"),
        ];
        for (parameters, part) in cases {
            assert_eq!(
                verify("cvent", SECRET, &parameters, NOW),
                Err(LinkRefusal::Damaged(part)),
                "{parameters:?}"
            );
        }
        let mut twice = good.clone();
        twice.push(("member".into(), "2".into()));
        assert_eq!(
            verify("cvent", SECRET, &twice, NOW),
            Err(LinkRefusal::Damaged("member"))
        );
        let without: Vec<_> = good.into_iter().filter(|(k, _)| k != "expires").collect();
        assert_eq!(
            verify("cvent", SECRET, &without, NOW),
            Err(LinkRefusal::Damaged("expires"))
        );
    }

    #[test]
    fn a_known_signature() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_documented_example_verifies() {
        // docs/registration-links.md gives this signature for websites to check theirs by.
        let text = signed_text("cvent", "ada@example.org", "1800000000", "q7Xk2mN9pL4vR8sT");
        let sig = signature(b"change-me-to-32-random-characters", &text);
        assert_eq!(
            sig,
            "e2791511fac86eb93e7750df5120a60377e3edacc7283b46e6888a0c51c29b3a"
        );
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
