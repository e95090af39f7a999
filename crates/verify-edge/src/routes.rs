//! Requests in, reports out.

use verify_core::{Flow, Options, Sha256, Verdict, Verifier};
use worker::{Context, Env, Headers, Method, Request, Response, Result, event};

use crate::body;

const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/page.html"));
const EXPECTED_HEADER: &str = "X-Expected-SHA256";
/// An optional `[vars]` binding: bodies declared larger are refused with 413
/// (hosted Workers have per-plan caps; self-hosted workerd has none).
const MAX_BODY_VAR: &str = "AIRLOCK_MAX_BODY_BYTES";
/// A `[vars]` binding that, when `"1"`, enables `POST /bench/in-memory`: the
/// yardstick for the streaming path (the same core over data already in
/// wasm memory). Off unless a deployment sets it.
const BENCH_VAR: &str = "AIRLOCK_BENCH";
/// Largest body the in-memory benchmark buffers.
const BENCH_MAX_BYTES: usize = 256 << 20;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get, "/") => page(),
        (Method::Post, "/verify") => verify(req, &env).await,
        (Method::Post, "/bench/in-memory") if var(&env, BENCH_VAR).as_deref() == Some("1") => {
            bench_in_memory(req).await
        }
        (_, "/verify") => problem(405, "use POST /verify with the bundle as the body"),
        (_, "/") => problem(405, "use GET /"),
        _ => problem(404, "no such path: POST /verify or GET /"),
    }
}

fn page() -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/html; charset=utf-8")?;
    Ok(Response::ok(PAGE)?.with_headers(headers))
}

async fn verify(req: Request, env: &Env) -> Result<Response> {
    let expected = match expected_sha256(&req) {
        Ok(e) => e,
        Err(why) => return problem(400, &why),
    };
    let max_body = var(env, MAX_BODY_VAR).and_then(|v| v.parse::<u64>().ok());
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(max) = max_body
        && declared.is_some_and(|d| d > max)
    {
        return problem(
            413,
            &format!("the body is larger than this verifier accepts ({max} bytes)"),
        );
    }
    let Some(stream) = req.inner().body() else {
        return problem(
            400,
            "the request has no body: send the bundle as the POST body",
        );
    };
    let mut verifier = Verifier::new(Options::new().with_expected_sha256(expected));
    // An empty body is an empty file: the report says so (not-a-bundle), as
    // `airlock verify` does for an empty file.
    // A chunked body declares no length, so the cap is also counted as the
    // body streams in. Once the verdict is settled the rest of the body is
    // not pulled (the edge pays for every byte it reads): the answer goes
    // out at once.
    let mut over_cap = false;
    let mut settled = false;
    body::for_each_chunk(stream, |chunk| {
        settled = verifier.update(chunk) == Flow::Settled;
        over_cap = max_body.is_some_and(|max| verifier.bytes_fed() > max);
        !over_cap && !settled
    })
    .await
    .map_err(|e| worker::Error::JsError(format!("reading the body failed: {e:?}")))?;
    if let Some(max) = max_body.filter(|_| over_cap) {
        return problem(
            413,
            &format!("the body is larger than this verifier accepts ({max} bytes)"),
        );
    }
    // Settled on the last bytes of a declared body, the file was read whole
    // and gets the whole file's report (as `airlock verify` gives it);
    // otherwise it was not hashed whole, and the report makes no claim
    // about its hash.
    let report = if settled && declared != Some(verifier.bytes_fed()) {
        verifier
            .finish_settled()
            .map_err(|e| worker::Error::RustError(e.to_string()))?
    } else {
        verifier.finish()
    };
    let status = match report.verdict() {
        Verdict::Ok => 200,
        Verdict::Fail => 422,
    };
    json(status, &serde_json::to_string(&report)?)
}

/// The recorded hash from the query (`?sha256=`) or the header; both must agree.
fn expected_sha256(req: &Request) -> std::result::Result<Option<Sha256>, String> {
    let from_query = req
        .url()
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "sha256")
        .map(|(_, v)| v.into_owned());
    let from_header = req
        .headers()
        .get(EXPECTED_HEADER)
        .map_err(|e| e.to_string())?;
    let parse = |source: &str, hex: &str| {
        Sha256::from_hex(hex.trim()).map_err(|e| format!("{source}: {e}"))
    };
    match (from_query, from_header) {
        (None, None) => Ok(None),
        (Some(q), None) => parse("sha256 query", &q).map(Some),
        (None, Some(h)) => parse(EXPECTED_HEADER, &h).map(Some),
        (Some(q), Some(h)) => {
            let (q, h) = (parse("sha256 query", &q)?, parse(EXPECTED_HEADER, &h)?);
            if q == h {
                Ok(Some(q))
            } else {
                Err(format!(
                    "the sha256 query and the {EXPECTED_HEADER} header differ"
                ))
            }
        }
    }
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// Buffers the body, then verifies it `rounds` times from memory. Timing
/// two calls with different `rounds` from outside gives the core's rate
/// inside the runtime, with the upload cancelled out (workerd's clocks do
/// not advance during computation, so the worker cannot time itself).
async fn bench_in_memory(mut req: Request) -> Result<Response> {
    let rounds: u32 = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "rounds")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    let data = req.bytes().await?;
    if data.len() > BENCH_MAX_BYTES {
        return problem(413, "the in-memory benchmark takes at most 256 MiB");
    }
    let mut verdicts = Vec::new();
    for _ in 0..rounds {
        let mut verifier = Verifier::new(Options::default());
        for chunk in data.chunks(body::CHUNK as usize) {
            // The yardstick reads everything, as it always has.
            let _ = verifier.update(chunk);
        }
        verdicts.push(verifier.finish().verdict());
    }
    json(
        200,
        &serde_json::json!({ "bytes": data.len(), "rounds": rounds, "ok": verdicts.iter().all(|v| *v == Verdict::Ok) })
            .to_string(),
    )
}

fn json(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// A client error as JSON: `{"error": "..."}`.
fn problem(status: u16, message: &str) -> Result<Response> {
    json(status, &serde_json::json!({ "error": message }).to_string())
}
